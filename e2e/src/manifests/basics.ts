/**
 * Workloads of the first e2e suite (cluster-basics.e2e.test.ts):
 * - echo: a Deployment whose init container (root, NET_ADMIN + NET_RAW only) installs a nat
 *   rule redirecting 127.0.0.1:15999 to the app's 8080, the way the mesh's init step captures
 *   traffic; plus a Service exposing HTTP, h2c, gRPC and TCP
 * - client: another pod, to call the Service by its DNS name through kube-proxy
 * - privileged: a privileged DaemonSet
 * - prometheus: discovers pods through the API server (kubernetes_sd, with RBAC) and scrapes
 *   those annotated prometheus.io/scrape, the way mesh telemetry is usually collected
 */
export interface BasicsParams {
  readonly namespace: string;
  readonly echoImage: string;
  readonly prometheusImage: string;
}

export const REDIRECT_PORT = 15999;

export function basicsManifest(p: BasicsParams): string {
  return `
apiVersion: apps/v1
kind: Deployment
metadata: { name: echo }
spec:
  replicas: 1
  selector: { matchLabels: { app: echo } }
  template:
    metadata:
      labels: { app: echo, version: v1 }
      annotations: { prometheus.io/scrape: "true", prometheus.io/port: "8080", prometheus.io/path: /metrics }
    spec:
      initContainers:
        - name: init-iptables
          image: ${p.echoImage}
          command: [sh, -c]
          args:
            - >-
              iptables -t nat -N SKEIN_E2E_OUTPUT &&
              iptables -t nat -A SKEIN_E2E_OUTPUT -p tcp -d 127.0.0.1 --dport ${REDIRECT_PORT} -j REDIRECT --to-ports 8080 &&
              iptables -t nat -A OUTPUT -p tcp -j SKEIN_E2E_OUTPUT &&
              iptables-save -t nat
          securityContext:
            runAsUser: 0
            runAsNonRoot: false
            allowPrivilegeEscalation: false
            capabilities: { drop: [ALL], add: [NET_ADMIN, NET_RAW] }
      containers:
        - name: echo
          image: ${p.echoImage}
          args: [serve]
          env: [{ name: ECHO_VERSION, value: v1 }, { name: ECHO_SERVICE, value: echo }]
          ports:
            - { name: http, containerPort: 8080 }
            - { name: h2c, containerPort: 8081 }
            - { name: grpc, containerPort: 7070 }
            - { name: tcp, containerPort: 9090 }
          readinessProbe: { httpGet: { path: /healthz, port: 8080 }, periodSeconds: 2 }
---
apiVersion: v1
kind: Service
metadata: { name: echo }
spec:
  selector: { app: echo }
  ports:
    - { name: http, port: 8080 }
    - { name: http2, port: 8081, appProtocol: kubernetes.io/h2c }
    - { name: grpc, port: 7070, appProtocol: grpc }
    - { name: tcp, port: 9090 }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: client }
spec:
  replicas: 1
  selector: { matchLabels: { app: client } }
  template:
    metadata: { labels: { app: client } }
    spec:
      containers:
        - name: client
          image: ${p.echoImage}
          args: [serve]
---
apiVersion: apps/v1
kind: DaemonSet
metadata: { name: privileged }
spec:
  selector: { matchLabels: { app: privileged } }
  template:
    metadata: { labels: { app: privileged } }
    spec:
      tolerations: [{ operator: Exists }]
      containers:
        - name: privileged
          image: ${p.echoImage}
          args: [serve]
          securityContext: { privileged: true, runAsUser: 0 }
---
apiVersion: v1
kind: ServiceAccount
metadata: { name: prometheus }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: prometheus }
rules:
  - { apiGroups: [""], resources: [pods], verbs: [get, list, watch] }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: prometheus }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: prometheus }
subjects: [{ kind: ServiceAccount, name: prometheus, namespace: ${p.namespace} }]
---
apiVersion: v1
kind: ConfigMap
metadata: { name: prometheus }
data:
  prometheus.yml: |
    global: { scrape_interval: 2s, scrape_timeout: 1s }
    scrape_configs:
      - job_name: pods
        kubernetes_sd_configs:
          - role: pod
            namespaces: { names: [${p.namespace}] }
        relabel_configs:
          - { source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_scrape], action: keep, regex: "true" }
          - source_labels: [__address__, __meta_kubernetes_pod_annotation_prometheus_io_port]
            action: replace
            regex: '([^:]+)(?::\\d+)?;(\\d+)'
            replacement: '$1:$2'
            target_label: __address__
          - { source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_path], action: replace, target_label: __metrics_path__, regex: '(.+)' }
          - { source_labels: [__meta_kubernetes_pod_name], target_label: pod }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: prometheus }
spec:
  replicas: 1
  selector: { matchLabels: { app: prometheus } }
  template:
    metadata: { labels: { app: prometheus } }
    spec:
      serviceAccountName: prometheus
      containers:
        - name: prometheus
          image: ${p.prometheusImage}
          args: [--config.file=/etc/prometheus/prometheus.yml, --storage.tsdb.path=/prometheus, --web.listen-address=:9090]
          ports: [{ containerPort: 9090 }]
          volumeMounts: [{ name: config, mountPath: /etc/prometheus }]
          readinessProbe: { httpGet: { path: /-/ready, port: 9090 }, periodSeconds: 2 }
      volumes: [{ name: config, configMap: { name: prometheus } }]
`;
}
