// The benchmark's mesh: N services in 10 namespaces as ServiceEntries, two WorkloadEntries per
// service (which are also the simulated proxies), one VirtualService per service, and optionally
// a Sidecar per namespace that scopes each proxy to its own namespace.

export interface BenchProxy {
  readonly nodeId: string;
  readonly namespace: string;
  readonly labels: Record<string, string>;
  readonly ip: string;
  /** Index of the service it backs. */
  readonly service: number;
}

export const NAMESPACES = 10;
export const PORT = 8080;

export const nsOf = (i: number): string => `ns-${i % NAMESPACES}`;
export const hostOf = (i: number): string => `svc-${i}.${nsOf(i)}.svc.cluster.local`;
const ipOf = (n: number): string => `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;

export function proxies(services: number, count: number): BenchProxy[] {
  return Array.from({ length: count }, (_, p) => {
    const service = p % services;
    const ns = nsOf(service);
    const labels = { app: `svc-${service}`, version: p < services ? 'v1' : 'v2' };
    const ip = ipOf(p + 1);
    return {
      nodeId: `sidecar~${ip}~svc-${service}-${p}.${ns}~${ns}.svc.cluster.local`,
      namespace: ns,
      labels,
      ip,
      service,
    };
  });
}

export function serviceYaml(i: number): string {
  return `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: svc-${i}, namespace: ${nsOf(i)} }
spec:
  hosts: [${hostOf(i)}]
  addresses: [240.240.${(i >> 8) & 255}.${i & 255}]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: ${PORT}, name: http }]
  workloadSelector: { labels: { app: svc-${i} } }
`;
}

export function workloadYaml(p: BenchProxy, address = p.ip): string {
  return `apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: { name: ${p.nodeId.split('~')[2]?.split('.')[0]}, namespace: ${p.namespace} }
spec: { address: ${address}, labels: { app: ${p.labels['app']}, version: ${p.labels['version']} } }
`;
}

export function virtualServiceYaml(i: number, v1Weight: number): string {
  return `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: svc-${i}, namespace: ${nsOf(i)} }
spec:
  hosts: [${hostOf(i)}]
  http:
  - route:
    - { destination: { host: ${hostOf(i)} }, weight: ${v1Weight} }
    - { destination: { host: ${hostOf((i + 1) % 1000)} }, weight: ${100 - v1Weight} }
`;
}

export function sidecarYaml(ns: number): string {
  return `apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: { name: default, namespace: ns-${ns} }
spec:
  egress: [{ hosts: ["./*"] }]
`;
}
