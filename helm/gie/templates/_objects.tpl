{{/* Objects every service subchart renders the same way; each takes the subchart's context. */}}

{{- define "gie.serviceAccount" -}}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ include "gie.fullname" . }}
  labels:
    {{- include "gie.componentLabels" . | nindent 4 }}
automountServiceAccountToken: {{ .Values.serviceAccount.automountToken }}
{{- end -}}

{{- define "gie.podDisruptionBudget" -}}
{{- if .Values.podDisruptionBudget.enabled -}}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "gie.fullname" . }}
  labels:
    {{- include "gie.componentLabels" . | nindent 4 }}
spec:
  maxUnavailable: {{ .Values.podDisruptionBudget.maxUnavailable }}
  selector:
    matchLabels:
      {{- include "gie.componentSelectorLabels" . | nindent 6 }}
{{- end -}}
{{- end -}}

{{/* An HTTP probe of the admin app; takes (dict "path" "/readyz" "probe" .Values.probes.readiness). */}}
{{- define "gie.adminProbe" -}}
httpGet:
  path: {{ .path }}
  port: admin
{{ toYaml .probe }}
{{- end -}}
