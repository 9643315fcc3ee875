{{/*
The bus's credentials (global.busSecurity): a NATS user per service with the
permissions of docs/security.md (charts/nats/files/authorization.conf, generated from
gie.security by `make chart-nats-auth`), TLS on the bundled NATS, and the
flow-controller's Valkey ACL user (charts/valkey/files/flow-controller.acl).
*/}}

{{/* Every NATS identity: a service, or the third-party reader (user gie-<name>). */}}
{{- define "gie.natsIdentities" -}}ingest metrics-collector flow-controller picker reader{{- end -}}

{{/* The Secret of the passwords, one key per user (gie-<identity>). */}}
{{- define "gie.busCredentialsName" -}}
{{- with .Values.global.busSecurity.existingSecret -}}{{ . }}{{- else -}}
{{- include "gie.name" (dict "root" . "component" "bus-credentials") -}}
{{- end -}}
{{- end -}}

{{- define "gie.busCredentialsDir" -}}/etc/gie/bus{{- end -}}
{{- define "gie.busTlsDir" -}}/etc/gie/bus-tls{{- end -}}

{{/* Whether the service mounts bus credentials: a NATS password, or (the
flow-controller with redisAcl) a Valkey password; "true" or "". */}}
{{- define "gie.busCredentialsMounted" -}}
{{- $bus := .Values.global.busSecurity -}}
{{- if or $bus.auth (and $bus.redisAcl (eq .Chart.Name "flow-controller")) -}}true{{- end -}}
{{- end -}}

{{/* A service's NATS (and Valkey) settings; takes the service subchart's context (.Chart.Name). */}}
{{- define "gie.busEnv" -}}
{{- $bus := .Values.global.busSecurity -}}
{{- if $bus.auth }}
- name: GIE_NATS_USER
  value: gie-{{ .Chart.Name }}
- name: GIE_NATS_PASSWORD_FILE
  value: {{ include "gie.busCredentialsDir" . }}/nats-password
{{- end }}
{{- if $bus.natsTlsSecret }}
- name: GIE_NATS_TLS_CA_FILE
  value: {{ include "gie.busTlsDir" . }}/ca.crt
{{- end }}
{{- if and $bus.redisAcl (eq .Chart.Name "flow-controller") }}
- name: GIE_REDIS_USERNAME
  value: gie-flow-controller
- name: GIE_REDIS_PASSWORD_FILE
  value: {{ include "gie.busCredentialsDir" . }}/redis-password
{{- end }}
{{- end -}}

{{- define "gie.busVolumeMounts" -}}
{{- $bus := .Values.global.busSecurity -}}
{{- if include "gie.busCredentialsMounted" . }}
- name: bus-credentials
  mountPath: {{ include "gie.busCredentialsDir" . }}
  readOnly: true
{{- end }}
{{- if $bus.natsTlsSecret }}
- name: bus-tls
  mountPath: {{ include "gie.busTlsDir" . }}
  readOnly: true
{{- end }}
{{- end -}}

{{/* Volumes, not subPaths: a rotated Secret reaches the files, read at each connection. */}}
{{- define "gie.busVolumes" -}}
{{- $bus := .Values.global.busSecurity -}}
{{- if include "gie.busCredentialsMounted" . }}
- name: bus-credentials
  secret:
    secretName: {{ include "gie.busCredentialsName" . }}
    items:
      {{- if $bus.auth }}
      - key: gie-{{ .Chart.Name }}
        path: nats-password
      {{- end }}
      {{- if and $bus.redisAcl (eq .Chart.Name "flow-controller") }}
      - key: valkey-gie-flow-controller
        path: redis-password
      {{- end }}
{{- end }}
{{- if $bus.natsTlsSecret }}
- name: bus-tls
  secret:
    secretName: {{ $bus.natsTlsSecret }}
    items:
      - key: ca.crt
        path: ca.crt
{{- end }}
{{- end -}}
