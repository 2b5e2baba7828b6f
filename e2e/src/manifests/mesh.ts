/**
 * Workloads of the mesh suite (mesh-routing.e2e.test.ts) as a user writes them: plain
 * Deployments and a Job, no sidecar. The namespace is labelled `istio-injection=enabled`, so
 * skeind's injection webhook adds the sidecar when the pods are created: the `skein-agent
 * iptables` init step (root, NET_ADMIN + NET_RAW only) and skein-agent + skein-proxy as a
 * Kubernetes native sidecar (an init container with `restartPolicy: Always` whose startup probe
 * holds the app until the proxy has its configuration), a projected service-account token
 * (audience istio-ca) for the CA on 15012, and `security.istio.io/tlsMode: istio`, so calls
 * between the pods are mutual TLS (auto mTLS). The template itself is
 * packages/control-plane/src/inject/.
 */
export interface MeshParams {
  readonly echoImage: string;
}

function echoDeployment(p: MeshParams, version: string): string {
  return `
apiVersion: apps/v1
kind: Deployment
metadata: { name: echo-${version} }
spec:
  replicas: 1
  selector: { matchLabels: { app: echo, version: ${version} } }
  template:
    metadata: { labels: { app: echo, version: ${version} } }
    spec:
      serviceAccountName: echo
      containers:
        - name: echo
          image: ${p.echoImage}
          args: [serve]
          env: [{ name: ECHO_VERSION, value: ${version} }, { name: ECHO_SERVICE, value: echo }]
          ports: [{ name: http, containerPort: 8080 }]
          readinessProbe: { httpGet: { path: /healthz, port: http }, periodSeconds: 2 }
`;
}

export function meshWorkloads(p: MeshParams): string {
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
    metadata: { labels: { app: client, version: v1 } }
    spec:
      serviceAccountName: client
      containers:
        - name: client
          image: ${p.echoImage}
          args: [serve, --http=-1, --h2c=-1, --grpc=-1, --tcp=-1]
`;
}

/**
 * An echo whose readiness is a gRPC probe (rewritten by the injector to the agent), behind a
 * sidecar whose inbound is STRICT mTLS: only a probe that bypasses the inbound capture (from
 * 127.0.0.6) reaches the app, a captured plaintext one is refused. No Service names port 7070:
 * the refusal comes from the virtual inbound listener's catch-all, which is under the workload's
 * PeerAuthentication as in Istio (STRICT: its mTLS chain only).
 */
export function grpcProbedWorkload(p: MeshParams): string {
  return `
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: probed-strict }
spec:
  selector: { matchLabels: { app: probed } }
  mtls: { mode: STRICT }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: probed }
spec:
  replicas: 1
  selector: { matchLabels: { app: probed } }
  template:
    metadata: { labels: { app: probed, version: v1 } }
    spec:
      serviceAccountName: echo
      containers:
        - name: echo
          image: ${p.echoImage}
          args: [serve, --h2c=-1, --tcp=-1]
          ports: [{ name: grpc, containerPort: 7070 }]
          readinessProbe: { grpc: { port: 7070 }, periodSeconds: 2 }
`;
}

/** A Job whose pod gets the sidecar: it must complete once its one container exits. */
export function meshJob(p: MeshParams, name: string, url: string): string {
  return `
apiVersion: batch/v1
kind: Job
metadata: { name: ${name} }
spec:
  backoffLimit: 0
  activeDeadlineSeconds: 240
  template:
    metadata: { labels: { app: ${name}, version: v1 } }
    spec:
      serviceAccountName: client
      restartPolicy: Never
      containers:
        - name: call
          image: ${p.echoImage}
          args: [client, ${url}, --count, '3']
`;
}

/** A pod that opts out of injection in the injected namespace. */
export function optedOutPod(p: MeshParams, name: string): string {
  return `
apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  labels: { app: ${name}, sidecar.istio.io/inject: 'false' }
spec:
  containers:
    - name: app
      image: ${p.echoImage}
      args: [serve, --http=-1, --h2c=-1, --grpc=-1, --tcp=-1]
`;
}

/** A VirtualService the API server must refuse (a negative route weight). */
export function invalidVirtualService(name: string): string {
  return `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ${name} }
spec:
  hosts: [echo]
  http:
    - route:
        - { destination: { host: echo }, weight: -10 }
`;
}
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
