// The demo's world: which workload lives at which loopback address, and the plain Istio YAML
// that describes it to skeind (ServiceEntry + WorkloadEntry for the service, a no-capture Sidecar
// per workload, a DestinationRule with the two subsets) and each release step's VirtualService.

export const NAMESPACE = 'demo';
export const SERVICE = 'reviews';
export const HOST = `${SERVICE}.${NAMESPACE}.svc.cluster.local`;
export const SERVICE_PORT = 9080;
export const APP_PORT = 8080;

export interface Workload {
  readonly name: string;
  readonly ip: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly serviceAccount: string;
  /** The app behind the sidecar, for server workloads. */
  readonly version?: string;
}

export interface Topology {
  readonly controlPlaneIp: string;
  readonly workloads: readonly Workload[];
}

/** Loopback addresses 127.0.<base>.x keep several demos (or tests) apart. */
export function topology(base = 0): Topology {
  const ip = (n: number) => `127.0.${base}.${n}`;
  return {
    controlPlaneIp: ip(10),
    workloads: [
      {
        name: 'reviews-v1',
        ip: ip(11),
        labels: { app: SERVICE, version: 'v1' },
        serviceAccount: 'reviews',
        version: 'v1',
      },
      {
        name: 'reviews-v2',
        ip: ip(12),
        labels: { app: SERVICE, version: 'v2' },
        serviceAccount: 'reviews',
        version: 'v2',
      },
      { name: 'client', ip: ip(20), labels: { app: 'client', version: 'v1' }, serviceAccount: 'client' },
    ],
  };
}

const doc = (lines: string[]) => lines.join('\n');
const labelsYaml = (l: Readonly<Record<string, string>>, indent: string) =>
  Object.entries(l).map(([k, v]) => `${indent}${k}: ${v}`);

/** Istio's injector label: endpoints carrying it get auto mTLS from their clients. */
export const TLS_MODE_LABEL = 'security.istio.io/tlsMode';

/** The mesh: service, workloads, sidecars, subsets. Written once. With `mtls`, workloads are labelled for auto mTLS. */
export function meshYaml(t: Topology, mtls = false): string {
  const docs: string[] = [
    doc([
      '# The demo service, outside Kubernetes: its endpoints are the WorkloadEntries with app=reviews.',
      'apiVersion: networking.istio.io/v1',
      'kind: ServiceEntry',
      `metadata: { name: ${SERVICE}, namespace: ${NAMESPACE} }`,
      'spec:',
      `  hosts: [${HOST}]`,
      `  ports: [{ number: ${SERVICE_PORT}, name: http, protocol: HTTP }]`,
      '  location: MESH_INTERNAL',
      '  resolution: STATIC',
      `  workloadSelector: { labels: { app: ${SERVICE} } }`,
    ]),
    doc([
      'apiVersion: networking.istio.io/v1',
      'kind: DestinationRule',
      `metadata: { name: ${SERVICE}, namespace: ${NAMESPACE} }`,
      'spec:',
      `  host: ${HOST}`,
      '  subsets:',
      '    - { name: v1, labels: { version: v1 } }',
      '    - { name: v2, labels: { version: v2 } }',
    ]),
  ];
  for (const w of t.workloads) {
    docs.push(
      doc([
        'apiVersion: networking.istio.io/v1',
        'kind: WorkloadEntry',
        `metadata: { name: ${w.name}, namespace: ${NAMESPACE} }`,
        'spec:',
        `  address: ${w.ip}`,
        `  serviceAccount: ${w.serviceAccount}`,
        '  labels:',
        ...labelsYaml(mtls ? { ...w.labels, [TLS_MODE_LABEL]: 'istio' } : w.labels, '    '),
        ...(w.version ? [`  ports: { http: ${SERVICE_PORT} }`] : []),
      ]),
    );
    const ingress = w.version
      ? [
          '  ingress:',
          `    - port: { number: ${SERVICE_PORT}, protocol: HTTP, name: http }`,
          `      bind: ${w.ip}`,
          '      captureMode: NONE',
          `      defaultEndpoint: 0.0.0.0:${APP_PORT}`,
        ]
      : [];
    docs.push(
      doc([
        `# No iptables here: the sidecar listens on explicit addresses (Istio's captureMode NONE).`,
        'apiVersion: networking.istio.io/v1',
        'kind: Sidecar',
        `metadata: { name: ${w.name}, namespace: ${NAMESPACE} }`,
        'spec:',
        '  workloadSelector:',
        '    labels:',
        ...labelsYaml(w.labels, '      '),
        ...ingress,
        '  egress:',
        // Only the client calls out; a server's ingress owns its ip:port.
        ...(w.version
          ? [`    - hosts: [./${HOST}]`]
          : [
              `    - port: { number: ${SERVICE_PORT}, protocol: HTTP, name: http }`,
              `      bind: ${w.ip}`,
              '      captureMode: NONE',
              `      hosts: [./${HOST}]`,
            ]),
      ]),
    );
  }
  return docs.join('\n---\n') + '\n';
}

export type Step =
  | { readonly kind: 'weights'; readonly v1: number; readonly v2: number }
  | { readonly kind: 'header'; readonly user: string }
  | { readonly kind: 'fault'; readonly abortPercent: number; readonly status: number };

export const defaultSteps: readonly Step[] = [
  { kind: 'weights', v1: 100, v2: 0 },
  { kind: 'weights', v1: 90, v2: 10 },
  { kind: 'weights', v1: 50, v2: 50 },
  { kind: 'weights', v1: 0, v2: 100 },
  { kind: 'header', user: 'jason' },
  { kind: 'fault', abortPercent: 10, status: 503 },
];

export function stepTitle(s: Step): string {
  switch (s.kind) {
    case 'weights':
      return `v1 ${s.v1}% / v2 ${s.v2}%`;
    case 'header':
      return `end-user: ${s.user} → v2, others → v1`;
    case 'fault':
      return `${s.abortPercent}% aborted with ${s.status}`;
  }
}

/** The VirtualService of one step of the release. */
export function virtualServiceYaml(s: Step): string {
  const head = [
    `# Step: ${stepTitle(s)}. Edit me and watch the effect live.`,
    'apiVersion: networking.istio.io/v1',
    'kind: VirtualService',
    `metadata: { name: ${SERVICE}, namespace: ${NAMESPACE} }`,
    'spec:',
    `  hosts: [${HOST}]`,
    '  http:',
  ];
  const route = (subset: string, weight?: number) =>
    `        - destination: { host: ${HOST}, subset: ${subset} }${weight === undefined ? '' : `\n          weight: ${weight}`}`;
  switch (s.kind) {
    case 'weights':
      return doc([...head, '    - route:', route('v1', s.v1), route('v2', s.v2)]) + '\n';
    case 'header':
      return (
        doc([
          ...head,
          '    - match:',
          `        - headers: { end-user: { exact: ${s.user} } }`,
          '      route:',
          route('v2'),
          '    - route:',
          route('v1'),
        ]) + '\n'
      );
    case 'fault':
      return (
        doc([
          ...head,
          '    - fault:',
          `        abort: { httpStatus: ${s.status}, percentage: { value: ${s.abortPercent} } }`,
          '      route:',
          route('v1', 50),
          route('v2', 50),
        ]) + '\n'
      );
  }
}
