{{- define "procuration.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{- define "procuration.labels" -}}
app.kubernetes.io/name: procuration
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "procuration.secretName" -}}
{{ .Values.secrets.existingSecret | default (printf "%s-settings" .Release.Name) }}
{{- end }}

{{/* The image runs as 65532 with no shell; nothing needs more. */}}
{{- define "procuration.podSecurity" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
fsGroup: 65532
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "procuration.containerSecurity" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: ["ALL"]
{{- end }}

{{- define "procuration.env" -}}
envFrom:
  - configMapRef:
      name: {{ .Release.Name }}-settings
  - secretRef:
      name: {{ include "procuration.secretName" . }}
{{- end }}

{{- define "procuration.keyMounts" -}}
volumeMounts:
  - name: issuer-key
    mountPath: /secrets/issuer
    readOnly: true
  - name: portal-keys
    mountPath: /secrets/portal
    readOnly: true
  - name: tmp
    mountPath: /tmp
{{- end }}

{{- define "procuration.keyVolumes" -}}
volumes:
  - name: issuer-key
    secret:
      secretName: {{ .Values.keySecrets.issuer }}
  - name: portal-keys
    secret:
      secretName: {{ .Values.keySecrets.portal }}
  - name: tmp
    emptyDir: {}
{{- end }}
