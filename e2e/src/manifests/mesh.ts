/**
 * Workloads of the mesh suite (mesh-routing.e2e.test.ts), with the sidecar written out by hand
 * the way an injector would add it: an init container (root, NET_ADMIN + NET_RAW only) running
 * `skein-agent iptables`, and skein-agent + skein-proxy as a Kubernetes native sidecar (an init
 * container with `restartPolicy: Always` whose startup probe holds the app until the proxy has
 * its configuration from skeind). The agent gets the workload's certificate from skeind's CA on
 * 15012 with the pod's service-account token (audience istio-ca), serves it to the proxy over SDS
 * and relays the proxy's xDS to 15012 over TLS; pods carry `security.istio.io/tlsMode: istio`,
 * so calls between them are mutual TLS (auto mTLS).
 */
export interface MeshParams {
  readonly echoImage: string;
  readonly proxyImage: string;
  /** skeind's TLS address (CA and xDS), host:port */
  readonly discoveryAddress: string;
}

interface Workload {
  readonly name: string;
  readonly app: string;
  readonly version: string;
  readonly serviceAccount: string;
}

/** The init step and the sidecar of a pod labelled app/version. */
export function sidecarContainers(p: MeshParams, w: Workload): string {
  return `
        - name: skein-init
          image: ${p.proxyImage}
          command: [/app/bin/skein-agent]
          args: [iptables, -p, '15001', -z, '15006', -u, '1337', -g, '1337', -m, REDIRECT, -i, '*', -b, '*', -d, '15090,15021,15020']
          securityContext:
            runAsUser: 0
            runAsNonRoot: false
            allowPrivilegeEscalation: false
            capabilities: { drop: [ALL], add: [NET_ADMIN, NET_RAW] }
        - name: skein-proxy
          image: ${p.proxyImage}
          restartPolicy: Always
          args:
            - proxy
            - --discovery-address=${p.discoveryAddress}
            - --discovery-tls
            - --xds-relay
            - --xds-relay-socket=/etc/skein/proxy/XDS
            - --ca-address=${p.discoveryAddress}
            - --ca-root-cert=/var/run/secrets/istio/root-cert.pem
            - --token-file=/var/run/secrets/tokens/istio-token
            - --sds-socket=/etc/skein/proxy/sds.sock
            - --config-path=/etc/skein/proxy/envoy-rev.json
            - --workload-name=${w.name}
            - --label=app=${w.app}
            - --label=version=${w.version}
            - --termination-drain-duration=1s
            - --exit-on-zero-active-connections
          env:
            - { name: POD_NAME, valueFrom: { fieldRef: { fieldPath: metadata.name } } }
            - { name: POD_NAMESPACE, valueFrom: { fieldRef: { fieldPath: metadata.namespace } } }
            - { name: INSTANCE_IP, valueFrom: { fieldRef: { fieldPath: status.podIP } } }
            - { name: SERVICE_ACCOUNT, valueFrom: { fieldRef: { fieldPath: spec.serviceAccountName } } }
          ports:
            - { name: http-envoy-prom, containerPort: 15090 }
            - { name: status-port, containerPort: 15021 }
          startupProbe: { httpGet: { path: /healthz/ready, port: 15021 }, periodSeconds: 1, failureThreshold: 120 }
          readinessProbe: { httpGet: { path: /healthz/ready, port: 15021 }, periodSeconds: 2 }
          securityContext: { runAsUser: 1337, runAsGroup: 1337, allowPrivilegeEscalation: false }
          volumeMounts:
            - { name: skein-proxy-config, mountPath: /etc/skein/proxy }
            - { name: istio-ca-root-cert, mountPath: /var/run/secrets/istio }
            - { name: istio-token, mountPath: /var/run/secrets/tokens }`;
}

/** The volumes the sidecar mounts: its config dir, the mesh root, the CA-audience token. */
const SIDECAR_VOLUMES = `
      volumes:
        - { name: skein-proxy-config, emptyDir: {} }
        - { name: istio-ca-root-cert, configMap: { name: istio-ca-root-cert } }
        - name: istio-token
          projected:
            sources: [{ serviceAccountToken: { audience: istio-ca, expirationSeconds: 3600, path: istio-token } }]`;

function meshLabels(app: string, version: string): string {
  return `{ app: ${app}, version: ${version}, security.istio.io/tlsMode: istio }`;
}

function echoDeployment(p: MeshParams, version: string): string {
  const w = { name: `echo-${version}`, app: 'echo', version, serviceAccount: 'echo' };
  return `
apiVersion: apps/v1
kind: Deployment
metadata: { name: echo-${version} }
spec:
  replicas: 1
  selector: { matchLabels: { app: echo, version: ${version} } }
  template:
    metadata: { labels: ${meshLabels('echo', version)} }
    spec:
      serviceAccountName: echo
      initContainers:${sidecarContainers(p, w)}
      containers:
        - name: echo
          image: ${p.echoImage}
          args: [serve]
          env: [{ name: ECHO_VERSION, value: ${version} }, { name: ECHO_SERVICE, value: echo }]
          ports: [{ name: http, containerPort: 8080 }]
${SIDECAR_VOLUMES}
`;
}

export function meshWorkloads(p: MeshParams): string {
  const client = { name: 'client', app: 'client', version: 'v1', serviceAccount: 'client' };
  return `
apiVersion: v1
kind: ServiceAccount
metadata: { name: echo }
---
apiVersion: v1
kind: ServiceAccount
metadata: { name: client }
---
apiVersion: v1
kind: Service
metadata: { name: echo }
spec:
  selector: { app: echo }
  ports: [{ name: http, port: 8080 }]
---
${echoDeployment(p, 'v1')}
---
${echoDeployment(p, 'v2')}
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: client }
spec:
  replicas: 1
  selector: { matchLabels: { app: client } }
  template:
    metadata: { labels: ${meshLabels('client', 'v1')} }
    spec:
      serviceAccountName: client
      initContainers:${sidecarContainers(p, client)}
      containers:
        - name: client
          image: ${p.echoImage}
          args: [serve, --http=-1, --h2c=-1, --grpc=-1, --tcp=-1]
${SIDECAR_VOLUMES}
`;
}

/** A Job whose pod has the sidecar: it must complete once its one container exits. */
export function meshJob(p: MeshParams, name: string, url: string): string {
  const w = { name, app: name, version: 'v1', serviceAccount: 'client' };
  return `
apiVersion: batch/v1
kind: Job
metadata: { name: ${name} }
spec:
  backoffLimit: 0
  activeDeadlineSeconds: 240
  template:
    metadata: { labels: ${meshLabels(name, 'v1')} }
    spec:
      serviceAccountName: client
      restartPolicy: Never
      initContainers:${sidecarContainers(p, w)}
      containers:
        - name: call
          image: ${p.echoImage}
          args: [client, ${url}, --count, '3']
${SIDECAR_VOLUMES}
`;
}

/** DestinationRule with subsets v1 and v2 and a VirtualService splitting echo by weight. */
export function echoRouting(weights: { v1: number; v2: number }, jasonToV2 = false): string {
  const jason = jasonToV2
    ? `
    - match: [{ headers: { end-user: { exact: jason } } }]
      route: [{ destination: { host: echo, subset: v2 } }]`
    : '';
  return `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: echo }
spec:
  host: echo
  subsets:
    - { name: v1, labels: { version: v1 } }
    - { name: v2, labels: { version: v2 } }
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: echo }
spec:
  hosts: [echo]
  http:${jason}
    - route:
        - { destination: { host: echo, subset: v1 }, weight: ${weights.v1} }
        - { destination: { host: echo, subset: v2 }, weight: ${weights.v2} }
`;
}
