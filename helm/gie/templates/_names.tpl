{{/*
Names and labels shared by the umbrella chart and every subchart (named templates are
global to the chart tree). Objects are named <release>-<component>; a subchart's
component is its chart name.
*/}}

{{/* <release>-<component>; takes (dict "root" $ "component" "picker"). */}}
{{- define "gie.name" -}}
{{- printf "%s-%s" .root.Release.Name .component | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The name of this subchart's objects: <release>-<chart name>. */}}
{{- define "gie.fullname" -}}
{{- include "gie.name" (dict "root" . "component" .Chart.Name) -}}
{{- end -}}

{{/* Labels that select one component's pods; takes (dict "root" $ "component" ...). */}}
{{- define "gie.selectorLabels" -}}
app.kubernetes.io/name: gie
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* Every label of an object of one component; takes (dict "root" $ "component" ...). */}}
{{- define "gie.labels" -}}
{{ include "gie.selectorLabels" . }}
app.kubernetes.io/part-of: gie
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* Labels of this subchart's objects. */}}
{{- define "gie.componentLabels" -}}
{{ include "gie.labels" (dict "root" . "component" .Chart.Name) }}
{{- end -}}

{{/* Selector labels of this subchart's pods. */}}
{{- define "gie.componentSelectorLabels" -}}
{{ include "gie.selectorLabels" (dict "root" . "component" .Chart.Name) }}
{{- end -}}

{{/* The InferencePool's name: global.poolName, else the release name. */}}
{{- define "gie.poolName" -}}
{{- default .Release.Name .Values.global.poolName -}}
{{- end -}}

{{/* GIE_POOL: namespace/name of the InferencePool the services work for. */}}
{{- define "gie.pool" -}}
{{- printf "%s/%s" .Release.Namespace (include "gie.poolName" .) -}}
{{- end -}}

{{/* The ConfigMap holding the EndpointPickerConfig. */}}
{{/* The Secret holding the pool's prefix-hash secret: the operator's, or the chart's. */}}
{{- define "gie.prefixKeyName" -}}
{{- .Values.global.prefixKey.existingSecret.name | default (include "gie.name" (dict "root" . "component" "prefix-key")) -}}
{{- end -}}

{{- define "gie.eppConfigName" -}}
{{- include "gie.name" (dict "root" . "component" "epp-config") -}}
{{- end -}}

{{/* The flow-controller's gRPC port (global, so the picker's subchart knows it too). */}}
{{- define "gie.flowControllerGrpcPort" -}}{{ .Values.global.flowControllerGrpcPort | default 9004 }}{{- end -}}

{{/*
GIE_FLOW_CONTROL_TARGETS of the picker: one dns:/// name of the flow-controller's
headless Service, so gRPC resolves every replica.
*/}}
{{- define "gie.flowControlTarget" -}}
{{- printf "dns:///%s.%s.svc:%s" (include "gie.name" (dict "root" . "component" "flow-controller")) .Release.Namespace (include "gie.flowControllerGrpcPort" .) -}}
{{- end -}}

{{/* GIE_NATS_URL: global.externalNats.url, else the bundled NATS's client Service
(tls:// with global.busSecurity.natsTlsSecret). */}}
{{- define "gie.natsUrl" -}}
{{- with .Values.global.externalNats.url -}}{{ . }}{{- else -}}
{{- $scheme := ternary "tls" "nats" (not (empty .Values.global.busSecurity.natsTlsSecret)) -}}
{{- printf "%s://%s.%s.svc:4222" $scheme (include "gie.name" (dict "root" . "component" "nats")) .Release.Namespace -}}
{{- end -}}
{{- end -}}

{{/* GIE_REDIS_URL: global.externalRedis.url, else the bundled Valkey's Service. */}}
{{- define "gie.redisUrl" -}}
{{- with .Values.global.externalRedis.url -}}{{ . }}{{- else -}}
{{- printf "redis://%s.%s.svc:6379/0" (include "gie.name" (dict "root" . "component" "valkey")) .Release.Namespace -}}
{{- end -}}
{{- end -}}

{{/*
The value (or valueFrom) of an environment variable holding a datastore URL; takes
(dict "external" .Values.global.externalNats "bundled" (include "gie.natsUrl" .)).
An existingSecret wins over url: the URL then carries credentials kept out of values.
*/}}
{{- define "gie.datastoreUrlEnv" -}}
{{- if .external.existingSecret.name -}}
valueFrom:
  secretKeyRef:
    name: {{ .external.existingSecret.name }}
    key: {{ .external.existingSecret.key }}
{{- else -}}
value: {{ .bundled | quote }}
{{- end -}}
{{- end -}}

{{/* Whether an external datastore is configured (url or existingSecret); "true" or "". */}}
{{- define "gie.externalSet" -}}
{{- if or .url .existingSecret.name (dig "sentinel" "addresses" list .) -}}true{{- end -}}
{{- end -}}

{{/*
A headless Service's name, <release>-<component>-headless, with the release name cut so
that the whole fits in 63 characters (the component stays whole, so two components
never get one name); takes (dict "root" $ "component" "picker").
*/}}
{{- define "gie.headlessName" -}}
{{- $suffix := printf "-%s-headless" .component -}}
{{- printf "%s%s" (.root.Release.Name | trunc (int (sub 63 (len $suffix))) | trimSuffix "-") $suffix -}}
{{- end -}}

{{/* The bundled Valkey's headless Service, which names every node (<pod>.<this>). */}}
{{- define "gie.valkeyHeadless" -}}
{{- include "gie.headlessName" (dict "root" . "component" "valkey") -}}
{{- end -}}

{{/* The cluster name of one bundled Valkey node; takes (dict "root" $ "index" 0). */}}
{{- define "gie.valkeyNode" -}}
{{- printf "%s-%d.%s.%s.svc" (include "gie.name" (dict "root" .root "component" "valkey")) (int .index) (include "gie.valkeyHeadless" .root) .root.Release.Namespace -}}
{{- end -}}

{{/* GIE_REDIS_SENTINELS of the bundled Valkey: the Sentinel of every node, host:port. */}}
{{- define "gie.valkeySentinels" -}}
{{- $addresses := list -}}
{{- range $i := until (int .Values.global.valkey.sentinel.nodes) -}}
{{- $addresses = append $addresses (printf "%s:26379" (include "gie.valkeyNode" (dict "root" $ "index" $i))) -}}
{{- end -}}
{{- join "," $addresses -}}
{{- end -}}

{{/* The DNS name the picker's ext_proc certificate carries (global.tls.extProc). */}}
{{- define "gie.extProcTlsName" -}}
{{- with .Values.global.tls.extProc.subjectAltName -}}{{ . }}{{- else -}}
{{- printf "%s.%s.svc" (include "gie.name" (dict "root" . "component" "picker")) .Release.Namespace -}}
{{- end -}}
{{- end -}}
