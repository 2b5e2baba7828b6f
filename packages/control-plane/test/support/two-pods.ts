// The configuration most traffic tests share: one mesh service whose single workload is a loopback
// "pod" (`serverIp`, its app on `appPort`) and a client pod (`clientIp`), both sidecars bound to
// their own address with interception NONE — the server's inbound port forwards to the app, the
// client's egress listener on `clientIp:port` is where a test sends its traffic.
export interface TwoPods {
  readonly namespace: string;
  /** Service name, app label and service account of the server pod; the client pod is `client`. */
  readonly name: string;
  readonly port: { readonly number: number; readonly name: string; readonly protocol?: string };
  readonly appPort: number;
  readonly serverIp: string;
  readonly clientIp: string;
  /** The server is an injected workload (`security.istio.io/tlsMode: istio`): auto mTLS applies. */
  readonly injected?: boolean;
  /** A namespace-wide PeerAuthentication STRICT. */
  readonly strict?: boolean;
}

export const hostOf = (t: Pick<TwoPods, 'name' | 'namespace'>): string =>
  `${t.name}.${t.namespace}.svc.cluster.local`;

/** ServiceEntry + WorkloadEntry (+ PeerAuthentication) + the two pods' Sidecars, as one YAML stream. */
export function twoPodsYaml(t: TwoPods): string {
  const host = hostOf(t);
  const port = `{ number: ${t.port.number}, name: ${t.port.name}${t.port.protocol ? `, protocol: ${t.port.protocol}` : ''} }`;
  const labels = `{ app: ${t.name}${t.injected ? ', security.istio.io/tlsMode: istio' : ''} }`;
  const docs = [
    `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: ${t.name}, namespace: ${t.namespace} }
spec:
  hosts: [${host}]
  ports: [${port}]
  location: MESH_INTERNAL
  resolution: STATIC
  workloadSelector: { labels: { app: ${t.name} } }`,
    `apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: { name: ${t.name}, namespace: ${t.namespace} }
spec: { address: ${t.serverIp}, serviceAccount: ${t.name}, labels: ${labels} }`,
    ...(t.strict
      ? [
          `apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: default, namespace: ${t.namespace} }
spec: { mtls: { mode: STRICT } }`,
        ]
      : []),
    `apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: { name: ${t.name}, namespace: ${t.namespace} }
spec:
  workloadSelector: { labels: { app: ${t.name} } }
  ingress:
    - port: ${port}
      bind: ${t.serverIp}
      captureMode: NONE
      defaultEndpoint: 0.0.0.0:${t.appPort}
  egress:
    - hosts: [./${host}]`,
    `apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: { name: client, namespace: ${t.namespace} }
spec:
  workloadSelector: { labels: { app: client } }
  egress:
    - port: ${port}
      bind: ${t.clientIp}
      captureMode: NONE
      hosts: [./${host}]`,
  ];
  return `${docs.join('\n---\n')}\n`;
}
