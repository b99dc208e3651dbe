{{/* The release's full name, used for every object (63 characters at most). */}}
{{- define "herald.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "herald.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "herald.labels" -}}
{{ include "herald.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "herald.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- .Values.serviceAccount.name | default (include "herald.fullname" .) -}}
{{- else -}}
{{- .Values.serviceAccount.name | default "default" -}}
{{- end -}}
{{- end -}}

{{/* --instance: the release's full name unless set; it names the Lease and the checkpoint ConfigMap, so two releases in one namespace never share them (at most 52 characters). */}}
{{- define "herald.instance" -}}
{{- .Values.instance | default (include "herald.fullname" .) | trunc 52 | trimSuffix "-" -}}
{{- end -}}

{{- define "herald.checkpointConfigMap" -}}
{{- .Values.checkpoint.configMapName | default (printf "%s-checkpoint" (include "herald.instance" .)) -}}
{{- end -}}

{{/* --leader-elect: forced, or implied by more than one replica. */}}
{{- define "herald.leaderElect" -}}
{{- if or .Values.leaderElection.enabled (gt (int .Values.replicas) 1) -}}true{{- end -}}
{{- end -}}
