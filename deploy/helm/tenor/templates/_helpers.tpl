{{/*
Names, labels and the per-service pieces every template shares. A "service" below is one entry
of .Values.services, passed as a dict: (dict "root" $ "name" "loan" "svc" $svc).
*/}}

{{- define "tenor.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's prefix for every object: "tenor" for a release named tenor. */}}
{{- define "tenor.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "tenor.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* A service's objects (Deployment, Service, HPA, …) and its in-cluster host name. */}}
{{- define "tenor.serviceName" -}}
{{- printf "%s-%s" (include "tenor.fullname" .root) .name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "tenor.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tenor.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .name }}
{{- end }}

{{- define "tenor.labels" -}}
helm.sh/chart: {{ include "tenor.chart" .root }}
{{ include "tenor.selectorLabels" . }}
app.kubernetes.io/part-of: tenor
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
{{- end }}

{{/* Labels of objects that belong to no one service (the ServiceAccount, the Ingress). */}}
{{- define "tenor.releaseLabels" -}}
helm.sh/chart: {{ include "tenor.chart" . }}
app.kubernetes.io/name: {{ include "tenor.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/part-of: tenor
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "tenor.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "tenor.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "tenor.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* The service names of every subgraph, sorted (a map's order). */}}
{{- define "tenor.subgraphNames" -}}
{{- $names := list }}
{{- range $name, $svc := .Values.services }}
{{- if eq $svc.kind "subgraph" }}{{ $names = append $names $name }}{{ end }}
{{- end }}
{{- toJson $names }}
{{- end }}

{{/*
Whether the service keeps files on a volume: kyc with a file:// object store. Such a service
runs one replica (its volume is ReadWriteOnce) and gets no HPA or PDB.
*/}}
{{- define "tenor.hasVolume" -}}
{{- if and .svc.persistence .svc.persistence.enabled }}true{{ end }}
{{- end }}

{{/* "true" when the service may run any number of replicas: HPA and PDB. */}}
{{- define "tenor.scalable" -}}
{{- if and .svc.stateless (not (include "tenor.hasVolume" .)) }}true{{ end }}
{{- end }}

{{/* A `secretKeyRef` env entry: (dict "var" NAME "secret" S "key" K "optional" B). */}}
{{- define "tenor.secretEnv" -}}
- name: {{ .var }}
  valueFrom:
    secretKeyRef:
      name: {{ required (printf "%s: the name of an existing Secret" .var) .secret | quote }}
      key: {{ required (printf "%s: a key of Secret %s" .var .secret) .key | quote }}
      {{- if .optional }}
      optional: true
      {{- end }}
{{- end }}

{{/*
Every environment variable of one service's container: the shared settings, its stores, what
its kind needs (the router: each subgraph's Service URL), then its own env, secretEnv and the
release-wide extraEnv. Mirrors docker-compose.yml's environment for the same service.
*/}}
{{- define "tenor.env" -}}
{{- $root := .root }}
{{- $svc := .svc }}
{{- $upper := upper .name }}
{{- $auth := index $root.Values.services "auth" }}
{{- $authUrl := printf "http://%s:%v" (include "tenor.serviceName" (dict "root" $root "name" "auth")) $auth.port }}
- name: HOST
  value: "0.0.0.0"
- name: PORT
  value: {{ $svc.port | quote }}
- name: LOG_FORMAT
  value: {{ $root.Values.logFormat | quote }}
{{- with $root.Values.tracing.otlpTracesEndpoint }}
- name: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
  value: {{ . | quote }}
{{- end }}
{{- if eq $svc.kind "subgraph" }}
- name: RUST_LOG
  value: {{ $root.Values.rustLog | quote }}
- name: KAFKA_BROKERS
  value: {{ required "kafka.brokers" $root.Values.kafka.brokers | quote }}
{{- with $root.Values.kafka.consumerGroupPrefix }}
- name: CONSUMER_GROUP_PREFIX
  value: {{ . | quote }}
{{- end }}
{{- if $root.Values.kafka.staticMembership }}
{{- /* Static group membership under the pod's own name, stable for the pod's life. */}}
- name: CONSUMER_INSTANCE_ID
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
{{- end }}
{{- end }}
{{- if ne .name "auth" }}
{{- /* Every verifier of access tokens: the subgraphs and the router. */}}
- name: AUTH_JWKS_URL
  value: {{ printf "%s/.well-known/jwks.json" $authUrl | quote }}
{{- end }}
{{- if eq $svc.store "postgres" }}
{{- include "tenor.secretEnv" (dict "var" (printf "%s_DATABASE_URL" $upper) "secret" $root.Values.postgresql.existingSecret "key" (printf "%s-database-url" .name)) | nindent 0 }}
- name: DB_MAX_CONNECTIONS
  value: {{ $root.Values.postgresql.maxConnections | quote }}
{{- else if eq $svc.store "mongodb" }}
{{- include "tenor.secretEnv" (dict "var" "MONGODB_URL" "secret" $root.Values.mongodb.existingSecret "key" $root.Values.mongodb.key) | nindent 0 }}
- name: {{ printf "%s_MONGODB_DATABASE" $upper }}
  value: {{ required (printf "services.%s.database" .name) $svc.database | quote }}
{{- end }}
{{- if $svc.redis }}
{{- include "tenor.secretEnv" (dict "var" "REDIS_URL" "secret" $root.Values.redis.existingSecret "key" $root.Values.redis.key) | nindent 0 }}
{{- end }}
{{- if $svc.smtp }}
{{- include "tenor.secretEnv" (dict "var" "NOTIFICATION_SMTP_URL" "secret" $root.Values.smtp.existingSecret "key" $root.Values.smtp.key) | nindent 0 }}
{{- end }}
{{- if eq $svc.kind "router" }}
{{- /* hive-router's override_subgraph_urls (router.config.yaml): each subgraph's Service. */}}
{{- range $sub := include "tenor.subgraphNames" $root | fromJsonArray }}
{{- $subSvc := index $root.Values.services $sub }}
- name: {{ printf "ROUTER_SUBGRAPH_%s_URL" (upper $sub) }}
  value: {{ printf "http://%s:%v/graphql" (include "tenor.serviceName" (dict "root" $root "name" $sub)) $subSvc.port | quote }}
{{- end }}
{{- with $root.Values.services.kyc }}
{{- /* The router passes KYC's signed links (/kyc/*) on to the kyc service. */}}
- name: ROUTER_KYC_LINKS_URL
  value: {{ printf "http://%s:%v" (include "tenor.serviceName" (dict "root" $root "name" "kyc")) .port | quote }}
{{- end }}
{{- end }}
{{- with $svc.signingKeys }}
{{- $files := list }}
{{- range $id := .ids }}
{{- $files = append $files (printf "%s=/run/secrets/tenor/signing-keys/%s.pem" $id $id) }}
{{- end }}
- name: AUTH_SIGNING_KEYS
  value: {{ join "," $files | quote }}
- name: AUTH_ACTIVE_SIGNING_KEY
  value: {{ required "services.auth.signingKeys.active" .active | quote }}
{{- end }}
{{- if hasKey $svc "objectStore" }}
- name: KYC_OBJECT_STORE_URL
  value: {{ required "services.kyc.objectStore" $svc.objectStore | quote }}
- name: KYC_PUBLIC_URL
  value: {{ required "publicUrl: the router's public address" $root.Values.publicUrl | quote }}
{{- end }}
{{- range $var, $value := $svc.env }}
- name: {{ $var }}
  value: {{ $value | toString | quote }}
{{- end }}
{{- range $var, $ref := $svc.secretEnv }}
{{- include "tenor.secretEnv" (dict "var" $var "secret" $ref.secret "key" $ref.key "optional" $ref.optional) | nindent 0 }}
{{- end }}
{{- range $var, $value := $root.Values.extraEnv }}
- name: {{ $var }}
  value: {{ $value | toString | quote }}
{{- end }}
{{- end }}
