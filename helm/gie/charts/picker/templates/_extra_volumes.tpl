{{/*
The picker container's mounts of extraVolumes (read-only), after checking that every
mount names one of them and that none takes a name of the chart's own volumes.
*/}}
{{- define "gie.picker.extraVolumeMounts" -}}
{{- $own := list "tmp" "epp-config" "prefix-key" "ext-proc-tls" "bus-credentials" "bus-tls" -}}
{{- $names := list -}}
{{- range $i, $volume := .Values.extraVolumes -}}
{{- if has $volume.name $own -}}
{{- fail (printf "picker.extraVolumes[%d].name %q is the name of one of the chart's own volumes (%s)" $i $volume.name (join ", " $own)) -}}
{{- end -}}
{{- if has $volume.name $names -}}
{{- fail (printf "picker.extraVolumes[%d].name %q is used twice" $i $volume.name) -}}
{{- end -}}
{{- $names = append $names $volume.name -}}
{{- end -}}
{{- range $i, $mount := .Values.extraVolumeMounts }}
{{- if not (has $mount.name $names) -}}
{{- fail (printf "picker.extraVolumeMounts[%d].name %q names no volume of picker.extraVolumes" $i $mount.name) -}}
{{- end }}
- name: {{ $mount.name }}
  mountPath: {{ $mount.mountPath }}
  {{- with $mount.subPath }}
  subPath: {{ . }}
  {{- end }}
  readOnly: true
{{- end -}}
{{- end -}}
