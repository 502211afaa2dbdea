{{- define "portal.labels" -}}
app.kubernetes.io/name: portal
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
{{- define "portal.selector" -}}
app.kubernetes.io/name: portal
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}
{{- define "portal.env" -}}
- name: APP__HTTP__HOST
  value: "0.0.0.0"
- name: APP__HTTP__PORT
  value: "8080"
{{- range $store, $name := dict "objects" "OBJECTS" "keys" "KEYS" }}
{{- $v := index $.Values $store }}
{{- if not $v.bucket }}
{{- fail (printf "%s.bucket is required: the replicas share their %s through S3 (see values.yaml)" $store $store) }}
{{- end }}
- name: APP__{{ $name }}__BACKEND
  value: s3
- name: APP__{{ $name }}__S3__BUCKET
  value: {{ $v.bucket | quote }}
{{- if $v.region }}
- name: APP__{{ $name }}__S3__REGION
  value: {{ $v.region | quote }}
{{- end }}
{{- if $v.endpoint }}
- name: APP__{{ $name }}__S3__ENDPOINT
  value: {{ $v.endpoint | quote }}
{{- end }}
- name: APP__{{ $name }}__S3__FORCE_PATH_STYLE
  value: {{ $v.forcePathStyle | quote }}
{{- end }}
{{- if eq .Values.objects.bucket .Values.keys.bucket }}
{{- fail "keys.bucket must not be objects.bucket: the key store is kept apart from the data" }}
{{- end }}
{{- if .Values.operator.enabled }}
{{- if not .Values.operator.tokenSha256 }}
{{- fail "operator.tokenSha256 is required when operator.enabled" }}
{{- end }}
- name: APP__OPERATOR__TOKEN_SHA256
  value: {{ .Values.operator.tokenSha256 | quote }}
- name: APP__OPERATOR__LISTEN
  value: "0.0.0.0:{{ .Values.operator.port }}"
{{- end }}
{{- range $k, $v := .Values.env }}
{{- if or (hasPrefix "APP__OBJECTS__" $k) (hasPrefix "APP__KEYS__" $k) (hasPrefix "APP__OPERATOR__" $k) }}
{{- fail (printf "env.%s: set the object store, key store and operator API through objects, keys and operator in values.yaml" $k) }}
{{- end }}
- name: {{ $k }}
  value: {{ $v | quote }}
{{- end }}
{{- end }}
