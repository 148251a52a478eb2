{{/* Names, capped at 63 characters as Kubernetes names and label values must be. */}}
{{- define "oleada.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "oleada.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains (include "oleada.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "oleada.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "oleada.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "oleada.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* Selector labels of one component: api, worker, redis or postgresql. */}}
{{- define "oleada.selectorLabels" -}}
app.kubernetes.io/name: {{ include "oleada.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "oleada.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "oleada.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "oleada.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/*
The environment of every Oleada process. DATABASE_URL and REDIS_URL come from a Secret when they hold a password;
the bundled PostgreSQL's password is spliced in by Kubernetes' $(VAR) expansion, so it never appears in a manifest.
*/}}
{{- define "oleada.env" -}}
{{- $fullname := include "oleada.fullname" . -}}
{{- if .Values.postgresql.enabled }}
- name: OLEADA_PG_PASSWORD
  valueFrom: { secretKeyRef: { name: {{ .Values.postgresql.existingSecret }}, key: password } }
- name: DATABASE_URL
  value: postgres://oleada:$(OLEADA_PG_PASSWORD)@{{ $fullname }}-postgresql:5432/oleada
{{- else if .Values.database.existingSecret.name }}
- name: DATABASE_URL
  valueFrom: { secretKeyRef: { name: {{ .Values.database.existingSecret.name }}, key: {{ .Values.database.existingSecret.key }} } }
{{- else }}
- name: DATABASE_URL
  value: {{ .Values.database.url | quote }}
{{- end }}
{{- if .Values.redis.enabled }}
- name: REDIS_URL
  value: redis://{{ $fullname }}-redis:6379
{{- else if .Values.queue.existingSecret.name }}
- name: REDIS_URL
  valueFrom: { secretKeyRef: { name: {{ .Values.queue.existingSecret.name }}, key: {{ .Values.queue.existingSecret.key }} } }
{{- else }}
- name: REDIS_URL
  value: {{ .Values.queue.url | quote }}
{{- end }}
- { name: OLEADA_QUEUE_PREFIX, value: {{ .Values.settings.queuePrefix | quote }} }
- { name: OLEADA_LOG_LEVEL, value: {{ .Values.settings.logLevel | quote }} }
- { name: OLEADA_LEASE_SECONDS, value: {{ .Values.settings.leaseSeconds | quote }} }
- { name: OLEADA_RECOVERY_INTERVAL_SECONDS, value: {{ .Values.settings.recoveryIntervalSeconds | quote }} }
- { name: OLEADA_SHUTDOWN_TIMEOUT_SECONDS, value: {{ .Values.settings.shutdownTimeoutSeconds | quote }} }
- { name: OLEADA_METRICS_AUTH, value: {{ .Values.settings.metricsAuth | quote }} }
- { name: OLEADA_CLUSTERS_FILE, value: /etc/oleada/config/clusters.yaml }
{{- if .Values.config.notifications }}
- { name: OLEADA_NOTIFICATIONS_FILE, value: /etc/oleada/config/notifications.yaml }
{{- end }}
{{- if .Values.secrets.tokens }}
- { name: OLEADA_TOKENS_FILE, value: /etc/oleada/tokens/{{ .Values.secrets.tokensKey }} }
{{- end }}
{{- /* Oleada reads these secrets from its environment only; each key is optional, so a Secret may hold just one. */}}
{{- if .Values.secrets.slack }}
- name: OLEADA_SLACK_BOT_TOKEN
  valueFrom: { secretKeyRef: { name: {{ .Values.secrets.slack }}, key: botToken, optional: true } }
- name: OLEADA_SLACK_SIGNING_SECRET
  valueFrom: { secretKeyRef: { name: {{ .Values.secrets.slack }}, key: signingSecret, optional: true } }
{{- end }}
{{- if .Values.secrets.hooks }}
- name: OLEADA_HOOK_SIGNING_SECRET
  valueFrom: { secretKeyRef: { name: {{ .Values.secrets.hooks }}, key: signingSecret } }
{{- end }}
{{- end -}}

{{- define "oleada.volumeMounts" -}}
- { name: config, mountPath: /etc/oleada/config, readOnly: true }
- { name: tmp, mountPath: /tmp }
{{- if .Values.secrets.kubeconfigs }}
- { name: kubeconfigs, mountPath: /etc/oleada/kubeconfigs, readOnly: true }
{{- end }}
{{- if .Values.secrets.tokens }}
- { name: tokens, mountPath: /etc/oleada/tokens, readOnly: true }
{{- end }}
{{- end -}}

{{/* Secrets are mounted 0440 to the pod's group: the process reads them and nothing else in the pod needs to. */}}
{{- define "oleada.volumes" -}}
- name: config
  configMap: { name: {{ include "oleada.fullname" . }} }
# The root filesystem is read-only; Node and tsx may still want a scratch folder.
- name: tmp
  emptyDir: { sizeLimit: 64Mi }
{{- if .Values.secrets.kubeconfigs }}
- name: kubeconfigs
  secret: { secretName: {{ .Values.secrets.kubeconfigs }}, defaultMode: 0440 }
{{- end }}
{{- if .Values.secrets.tokens }}
- name: tokens
  secret: { secretName: {{ .Values.secrets.tokens }}, defaultMode: 0440 }
{{- end }}
{{- end -}}

{{/* The pod-level fields both Oleada Deployments share. */}}
{{- define "oleada.podSpec" -}}
serviceAccountName: {{ include "oleada.serviceAccountName" .root }}
# Oleada talks to the target clusters with the kubeconfigs it is given, never with its own account's token.
automountServiceAccountToken: false
securityContext: {{- toYaml .root.Values.podSecurityContext | nindent 2 }}
{{- with .root.Values.imagePullSecrets }}
imagePullSecrets: {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.nodeSelector }}
nodeSelector: {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.tolerations }}
tolerations: {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.affinity }}
affinity: {{- toYaml . | nindent 2 }}
{{- end }}
volumes: {{- include "oleada.volumes" .root | nindent 2 }}
{{- end -}}
