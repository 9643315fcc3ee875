{{/* Nodes of the NATS cluster: config.cluster.replicas, or 1 without a cluster. */}}
{{- define "gie.nats.replicas" -}}
{{- if .Values.config.cluster.enabled -}}{{ .Values.config.cluster.replicas }}{{- else -}}1{{- end -}}
{{- end -}}

{{- define "gie.nats.headless" -}}
{{- printf "%s-headless" (include "gie.fullname" .) -}}
{{- end -}}
