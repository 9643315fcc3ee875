{{/*
Fails when two of the pod's listeners would take one port: ports.grpc, each worker's
admin port (ports.admin + i) and, with more than one worker, each worker's own
ext_proc port (ports.workerBase + i). Renders nothing otherwise.
*/}}
{{- define "gie.picker.checkPorts" -}}
{{- $workers := int .Values.workers -}}
{{- $claims := list (list (int .Values.ports.grpc) "ports.grpc") -}}
{{- range $i := until $workers -}}
{{- $claims = append $claims (list (add $.Values.ports.admin $i) (ternary "ports.admin" (printf "worker %d's admin port (ports.admin + %d)" $i $i) (eq $i 0))) -}}
{{- if gt $workers 1 -}}
{{- $claims = append $claims (list (add $.Values.ports.workerBase $i) (printf "worker %d's ext_proc port (ports.workerBase + %d)" $i $i)) -}}
{{- end -}}
{{- end -}}
{{- $owners := dict -}}
{{- range $claims -}}
{{- $port := toString (index . 0) -}}
{{- if hasKey $owners $port -}}
{{- fail (printf "picker ports overlap: port %s is both %s and %s (workers: %d); move ports.admin, ports.workerBase or ports.grpc apart" $port (get $owners $port) (index . 1) $workers) -}}
{{- end -}}
{{- if gt (int (index . 0)) 65535 -}}
{{- fail (printf "picker port %s (%s, workers: %d) is above 65535" $port (index . 1) $workers) -}}
{{- end -}}
{{- $_ := set $owners $port (index . 1) -}}
{{- end -}}
{{- end -}}

{{/*
The appProtocol of an ext_proc port: cleartext HTTP/2 (h2c), unless global.tls.extProc
is on: then TLS, for which Kubernetes defines no appProtocol, so none is set.
*/}}
{{- define "gie.picker.appProtocol" -}}
{{- if not .Values.global.tls.extProc.enabled }}
      appProtocol: kubernetes.io/h2c
{{- end }}
{{- end -}}
