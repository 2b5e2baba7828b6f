// Kubernetes Services as mesh services: hostname `<name>.<ns>.svc.cluster.local`, the cluster
// IP, ports (protocol from appProtocol or the port name), and workloads from EndpointSlices
// joined with their Pods (labels, service account). Structural types: no client library here.
import { DOMAIN_SUFFIX } from './hosts.js';
import { protocolOf } from './protocol.js';
import type { Service, ServicePort, Workload } from './services.js';

export interface KubeMeta {
  readonly name?: string | undefined;
  readonly namespace?: string | undefined;
  readonly labels?: Readonly<Record<string, string>> | undefined;
  readonly annotations?: Readonly<Record<string, string>> | undefined;
  readonly creationTimestamp?: string | Date | undefined;
}

export interface KubeService {
  readonly metadata?: KubeMeta | undefined;
  readonly spec?:
    | {
        readonly clusterIP?: string | undefined;
        readonly selector?: Readonly<Record<string, string>> | undefined;
        readonly ports?:
          | readonly {
              readonly name?: string | undefined;
              readonly port: number;
              readonly appProtocol?: string | undefined;
              readonly targetPort?: number | string | undefined;
            }[]
          | undefined;
      }
    | undefined;
}

export interface KubeEndpointSlice {
  readonly metadata?: KubeMeta | undefined;
  readonly endpoints?:
    | readonly {
        readonly addresses: readonly string[];
        readonly conditions?: { readonly ready?: boolean | undefined } | undefined;
        readonly targetRef?:
          { readonly kind?: string | undefined; readonly name?: string | undefined } | undefined;
        readonly zone?: string | undefined;
      }[]
    | undefined;
  readonly ports?:
    readonly { readonly name?: string | undefined; readonly port?: number | undefined }[] | undefined;
}

export interface KubePod {
  readonly metadata?: KubeMeta | undefined;
  readonly spec?: { readonly serviceAccountName?: string | undefined } | undefined;
}

const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

export function servicesFromKubernetes(
  services: readonly KubeService[],
  slices: readonly KubeEndpointSlice[],
  pods: readonly KubePod[],
): Service[] {
  const podByKey = new Map(pods.map((p) => [`${p.metadata?.namespace}/${p.metadata?.name}`, p]));
  const slicesBySvc = new Map<string, KubeEndpointSlice[]>();
  for (const s of slices) {
    const svc = s.metadata?.labels?.[SERVICE_NAME_LABEL];
    if (!svc) continue;
    const key = `${s.metadata?.namespace}/${svc}`;
    slicesBySvc.set(key, [...(slicesBySvc.get(key) ?? []), s]);
  }
  const out: Service[] = [];
  for (const svc of services) {
    const name = svc.metadata?.name;
    const ns = svc.metadata?.namespace ?? 'default';
    if (!name) continue;
    const ports: ServicePort[] = (svc.spec?.ports ?? []).map((p) => ({
      number: p.port,
      name: p.name ?? `port-${p.port}`,
      protocol: protocolOf({ appProtocol: p.appProtocol, name: p.name }),
      targetPort: typeof p.targetPort === 'number' ? p.targetPort : undefined,
      targetPortName: typeof p.targetPort === 'string' ? p.targetPort : undefined,
    }));
    const workloads: Workload[] = [];
    for (const slice of slicesBySvc.get(`${ns}/${name}`) ?? []) {
      const slicePorts: Record<string, number> = {};
      for (const p of slice.ports ?? []) if (p.port !== undefined) slicePorts[p.name ?? ''] = p.port;
      // A single unnamed service port maps to the slice's unnamed port.
      for (const sp of ports)
        if (slicePorts[sp.name] === undefined && slicePorts[''] !== undefined)
          slicePorts[sp.name] = slicePorts[''] ?? sp.number;
      for (const e of slice.endpoints ?? []) {
        if (e.conditions?.ready === false) continue;
        const pod = e.targetRef?.kind === 'Pod' ? podByKey.get(`${ns}/${e.targetRef.name}`) : undefined;
        for (const address of e.addresses.slice(0, 1))
          workloads.push({
            name: e.targetRef?.name ?? address,
            namespace: ns,
            address,
            ports: slicePorts,
            labels: pod?.metadata?.labels ?? {},
            locality: e.zone ? `/${e.zone}` : '',
            weight: 1,
            serviceAccount: pod?.spec?.serviceAccountName ?? 'default',
            network: '',
          });
      }
    }
    const clusterIP = svc.spec?.clusterIP;
    const exportTo = svc.metadata?.annotations?.['networking.istio.io/exportTo'];
    const created = svc.metadata?.creationTimestamp;
    out.push({
      hostname: `${name}.${ns}.${DOMAIN_SUFFIX}`,
      namespace: ns,
      addresses: clusterIP && clusterIP !== 'None' ? [clusterIP] : [],
      ports,
      resolution: 'STATIC',
      location: 'MESH_INTERNAL',
      exportTo: exportTo ? exportTo.split(',').map((s) => s.trim()) : undefined,
      workloads,
      podSelector: svc.spec?.selector,
      subjectAltNames: [],
      origin: `Kubernetes ${ns}/${name}`,
      registry: 'Kubernetes',
      createdAt: created instanceof Date ? created.toISOString() : (created ?? ''),
    });
  }
  return out;
}
