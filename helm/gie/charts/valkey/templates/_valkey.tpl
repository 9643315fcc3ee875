{{/* Whether the bundled Valkey runs replicated with Sentinels: "true" or "". */}}
{{- define "gie.valkey.sentinel" -}}
{{- if .Values.global.valkey.sentinel.enabled -}}true{{- end -}}
{{- end -}}

{{/* The ConfigMap of the Sentinel configuration and the start scripts. */}}
{{- define "gie.valkey.configName" -}}
{{- printf "%s-sentinel" (include "gie.fullname" .) -}}
{{- end -}}

{{/*
sentinel.conf, shared by every node's Sentinel; sentinel.sh adds the node's own
announced name (and the password) to a writable copy, which the Sentinel rewrites as
it learns replicas, peers and failovers.
*/}}
{{- define "gie.valkey.sentinelConf" -}}
{{- $name := .Values.global.valkey.sentinel.masterName -}}
port 26379
dir /sentinel
sentinel resolve-hostnames yes
sentinel announce-hostnames yes
sentinel announce-port 26379
sentinel monitor {{ $name }} {{ include "gie.valkeyNode" (dict "root" . "index" 0) }} 6379 {{ .Values.sentinel.quorum }}
sentinel down-after-milliseconds {{ $name }} {{ .Values.sentinel.downAfterMilliseconds }}
sentinel failover-timeout {{ $name }} {{ .Values.sentinel.failoverTimeout }}
sentinel parallel-syncs {{ $name }} 1
{{- end -}}

{{/* Environment of both containers of a replicated node. */}}
{{- define "gie.valkey.nodeEnv" -}}
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: VALKEY_PRIMARY
  value: {{ include "gie.valkeyNode" (dict "root" . "index" 0) | quote }}
- name: VALKEY_ANNOUNCE
  value: {{ printf "$(POD_NAME).%s.%s.svc" (include "gie.valkeyHeadless" .) .Release.Namespace | quote }}
{{- with include "gie.valkey.passwordEnv" . }}
{{ . }}
{{- end }}
{{- end -}}

{{- define "gie.valkey.image" -}}
{{- printf "%s:%s" .Values.image.repository (default (printf "%s-alpine" .Chart.AppVersion) .Values.image.tag) -}}
{{- end -}}

{{/* Readiness: PING answered; takes (dict "port" 6379 "password" <secret name or "">
"acl" <true: as the flow-controller's ACL user>). */}}
{{- define "gie.valkey.pingProbe" -}}
exec:
  {{- if .acl }}
  command: ["sh", "-c", "valkey-cli -p {{ .port }} --no-auth-warning --user gie-flow-controller --pass \"$VALKEY_FLOW_CONTROLLER_PASSWORD\" ping | grep -q PONG"]
  {{- else if .password }}
  command: ["sh", "-c", "valkey-cli -p {{ .port }} --no-auth-warning -a \"$VALKEY_PASSWORD\" ping | grep -q PONG"]
  {{- else }}
  command: ["valkey-cli", "-p", "{{ .port }}", "ping"]
  {{- end }}
periodSeconds: 5
timeoutSeconds: 2
failureThreshold: 3
{{- end -}}

{{/* VALKEY_PASSWORD from global.valkey.passwordSecret; nothing without one. */}}
{{- define "gie.valkey.passwordEnv" -}}
{{- with .Values.global.valkey.passwordSecret -}}
{{- if .name -}}
- name: VALKEY_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ .name }}
      key: {{ .key }}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
global.busSecurity.redisAcl: the default user off, the flow-controller's ACL user on
with its password (VALKEY_FLOW_CONTROLLER_PASSWORD) and the rules of
files/flow-controller.acl (generated from gie.security.redis_acl).
*/}}
{{- define "gie.valkey.aclArgs" -}}
- --user
- default
- "off"
- --user
- gie-flow-controller
- "on"
- ">$(VALKEY_FLOW_CONTROLLER_PASSWORD)"
{{- range splitList " " (.Files.Get "files/flow-controller.acl" | trim) }}
- {{ . | quote }}
{{- end }}
{{- end -}}

{{- define "gie.valkey.aclEnv" -}}
- name: VALKEY_FLOW_CONTROLLER_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "gie.busCredentialsName" . }}
      key: valkey-gie-flow-controller
{{- end -}}
