{{/* GIE_DISCOVERY and what its mode reads (ingest's settings refuse the others). */}}
{{- define "gie.ingest.discoveryEnv" -}}
{{- $discovery := .Values.discovery -}}
- name: GIE_DISCOVERY
  value: {{ $discovery.mode | quote }}
{{- if eq $discovery.mode "file" }}
- name: GIE_POOL_FILE
  value: /etc/gie/pool/pool.yaml
- name: GIE_POOL_FILE_POLL_S
  value: {{ .Values.poolFile.pollSeconds | quote }}
{{- else if eq $discovery.mode "kubernetes" }}
- name: GIE_POOL_GROUP
  value: {{ $discovery.poolGroup | quote }}
{{- else }}
- name: GIE_ENDPOINT_SELECTOR
  value: {{ include "gie.ingest.labelSelector" $discovery.selector | quote }}
- name: GIE_TARGET_PORTS
  value: {{ join "," $discovery.targetPorts | quote }}
{{- end }}
{{- end -}}

{{/* matchLabels as a label selector string: key=value,... sorted by key. */}}
{{- define "gie.ingest.labelSelector" -}}
{{- $pairs := list -}}
{{- range $key := keys . | sortAlpha -}}
{{- $pairs = append $pairs (printf "%s=%s" $key (index $ $key)) -}}
{{- end -}}
{{- join "," $pairs -}}
{{- end -}}
