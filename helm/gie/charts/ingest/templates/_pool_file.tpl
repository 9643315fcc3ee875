{{/* The static pool file ingest reads (GIE_POOL_FILE): the pool and its endpoints. */}}
{{- define "gie.ingest.poolFile" -}}
{{- $file := dict "pool" (include "gie.pool" .) "endpoints" .Values.poolFile.endpoints "objectives" .Values.poolFile.objectives -}}
{{- toYaml $file -}}
{{- end -}}
