{{/*
How the flow-controller reaches Redis: the Sentinels of an external Redis, an external
URL, the Sentinels of the bundled Valkey (global.valkey.sentinel.enabled), or the
bundled Valkey's one node. Passwords come from Secrets, never from values.
*/}}
{{- define "gie.flowController.redisEnv" -}}
{{- $external := .Values.global.externalRedis -}}
{{- $bundled := .Values.global.valkey -}}
{{- if $external.sentinel.addresses -}}
- name: GIE_REDIS_SENTINELS
  value: {{ join "," $external.sentinel.addresses | quote }}
- name: GIE_REDIS_MASTER_NAME
  value: {{ $external.sentinel.masterName | quote }}
{{- include "gie.flowController.passwordEnv" $external.sentinel.passwordSecret }}
{{- else if include "gie.externalSet" $external -}}
- name: GIE_REDIS_URL
  {{- include "gie.datastoreUrlEnv" (dict "external" $external "bundled" (include "gie.redisUrl" .)) | nindent 2 }}
{{- else if $bundled.sentinel.enabled -}}
- name: GIE_REDIS_SENTINELS
  value: {{ include "gie.valkeySentinels" . | quote }}
- name: GIE_REDIS_MASTER_NAME
  value: {{ $bundled.sentinel.masterName | quote }}
{{- include "gie.flowController.passwordEnv" $bundled.passwordSecret }}
{{- else -}}
- name: GIE_REDIS_URL
  value: {{ include "gie.redisUrl" . | quote }}
{{- include "gie.flowController.passwordEnv" $bundled.passwordSecret }}
{{- end -}}
{{- end -}}

{{/* GIE_REDIS_PASSWORD from a Secret ({name, key}); nothing when name is empty. */}}
{{- define "gie.flowController.passwordEnv" -}}
{{- with .name }}
- name: GIE_REDIS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: {{ $.key }}
{{- end -}}
{{- end -}}
