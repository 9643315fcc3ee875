{{/*
Pieces of every gie pod, included by each service's Deployment. The image runs as a
numeric non-root user with a read-only root filesystem; /tmp (HOME and TMPDIR in the
image) is an emptyDir.
*/}}

{{/* The one gie image; global.image.tag, else the chart's appVersion. */}}
{{- define "gie.image" -}}
{{- $image := .Values.global.image -}}
{{- printf "%s:%s" $image.repository (default .Chart.AppVersion $image.tag) -}}
{{- end -}}

{{- define "gie.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
fsGroup: 65532
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "gie.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Environment every service reads (gie.config.ServiceSettings); takes the subchart's context. */}}
{{- define "gie.commonEnv" -}}
- name: GIE_NATS_URL
  {{- include "gie.datastoreUrlEnv" (dict "external" .Values.global.externalNats "bundled" (include "gie.natsUrl" .)) | nindent 2 }}
- name: GIE_POOL
  value: {{ include "gie.pool" . | quote }}
- name: GIE_INSTANCE_ID
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: GIE_ADMIN_HOST
  value: "0.0.0.0"
- name: GIE_ADMIN_PORT
  value: {{ .Values.ports.admin | quote }}
- name: GIE_LOG_LEVEL
  value: {{ .Values.global.logLevel | quote }}
- name: GIE_LOG_FORMAT
  value: {{ .Values.global.logFormat | quote }}
- name: GIE_STREAM_REPLICAS
  value: {{ .Values.global.streamReplicas | quote }}
{{- include "gie.busEnv" . }}
{{- end -}}

{{/* The writable /tmp every container mounts. */}}
{{- define "gie.tmpVolumeMount" -}}
- name: tmp
  mountPath: /tmp
{{- end -}}

{{- define "gie.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .Values.tmpSizeLimit }}
{{- end -}}

{{/* The EndpointPickerConfig, mounted read-only where GIE_CONFIG_FILE points. */}}
{{- define "gie.eppConfigPath" -}}/etc/gie/epp/config.yaml{{- end -}}

{{- define "gie.eppConfigVolumeMount" -}}
- name: epp-config
  mountPath: /etc/gie/epp
  readOnly: true
{{- end -}}

{{- define "gie.eppConfigVolume" -}}
- name: epp-config
  configMap:
    name: {{ include "gie.eppConfigName" . }}
{{- end -}}

{{/* The pool's prefix-hash secret (GIE_PREFIX_KEY_FILE), mounted read-only by every
picker and metrics-collector: they must all key hashes with the same one. */}}
{{- define "gie.prefixKeyDir" -}}/etc/gie/prefix-key{{- end -}}

{{- define "gie.prefixKeyEnv" -}}
- name: GIE_PREFIX_KEY_FILE
  value: {{ include "gie.prefixKeyDir" . }}/key
{{- end -}}

{{- define "gie.prefixKeyVolumeMount" -}}
- name: prefix-key
  mountPath: {{ include "gie.prefixKeyDir" . }}
  readOnly: true
{{- end -}}

{{- define "gie.prefixKeyVolume" -}}
- name: prefix-key
  secret:
    secretName: {{ include "gie.prefixKeyName" . }}
    items:
      - key: {{ ternary .Values.global.prefixKey.existingSecret.key "key" (ne .Values.global.prefixKey.existingSecret.name "") }}
        path: key
{{- end -}}

{{/* Spreads the component's pods over topologySpread.topologyKey. */}}
{{- define "gie.topologySpreadConstraints" -}}
{{- with .Values.topologySpread }}
{{- if .enabled -}}
- maxSkew: {{ .maxSkew }}
  topologyKey: {{ .topologyKey }}
  whenUnsatisfiable: {{ .whenUnsatisfiable }}
  labelSelector:
    matchLabels:
      {{- include "gie.componentSelectorLabels" $ | nindent 6 }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Scheduling and pull settings common to every pod spec. */}}
{{- define "gie.podScheduling" -}}
serviceAccountName: {{ include "gie.fullname" . }}
automountServiceAccountToken: {{ .Values.serviceAccount.automountToken }}
securityContext:
  {{- include "gie.podSecurityContext" . | nindent 2 }}
{{- with .Values.global.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with (include "gie.topologySpreadConstraints" .) }}
topologySpreadConstraints:
  {{- . | nindent 2 }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* ext_proc over TLS (global.tls.extProc): the picker's certificate Secret, mounted
as a volume (not subPath) so a rotated Secret reaches the files the picker re-reads. */}}
{{- define "gie.extProcTlsDir" -}}/etc/gie/tls/ext-proc{{- end -}}

{{- define "gie.extProcTlsEnv" -}}
{{- $tls := .Values.global.tls.extProc -}}
{{- if $tls.enabled }}
- name: GIE_GRPC_TLS_CERT_FILE
  value: {{ include "gie.extProcTlsDir" . }}/tls.crt
- name: GIE_GRPC_TLS_KEY_FILE
  value: {{ include "gie.extProcTlsDir" . }}/tls.key
{{- if $tls.mutual }}
- name: GIE_GRPC_TLS_CLIENT_CA_FILE
  value: {{ include "gie.extProcTlsDir" . }}/ca.crt
{{- end }}
{{- end }}
{{- end -}}

{{- define "gie.extProcTlsVolumeMount" -}}
{{- if .Values.global.tls.extProc.enabled }}
- name: ext-proc-tls
  mountPath: {{ include "gie.extProcTlsDir" . }}
  readOnly: true
{{- end }}
{{- end -}}

{{- define "gie.extProcTlsVolume" -}}
{{- if .Values.global.tls.extProc.enabled }}
- name: ext-proc-tls
  secret:
    secretName: {{ required "global.tls.extProc.serverSecret is required with global.tls.extProc.enabled" .Values.global.tls.extProc.serverSecret }}
    defaultMode: 0400
{{- end }}
{{- end -}}
