{{/* Nodes of the NATS cluster: config.cluster.replicas, or 1 without a cluster. */}}
{{- define "gie.nats.replicas" -}}
{{- if .Values.config.cluster.enabled -}}{{ .Values.config.cluster.replicas }}{{- else -}}1{{- end -}}
{{- end -}}

{{- define "gie.nats.headless" -}}
{{- include "gie.headlessName" (dict "root" . "component" .Chart.Name) -}}
{{- end -}}
