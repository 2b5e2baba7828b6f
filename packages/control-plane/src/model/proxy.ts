// The proxy view: who is asking for configuration, parsed from the xDS node as Istio's agent
// writes it — id `sidecar~<ip>~<pod>.<ns>~<ns>.svc.cluster.local` plus metadata (NAMESPACE,
// LABELS, SERVICE_ACCOUNT, INSTANCE_IPS, INTERCEPTION_MODE, GENERATOR, ...).
import type { CredentialAccess } from './secret-access.js';

export interface Locality {
  readonly region: string;
  readonly zone: string;
  readonly subZone: string;
}

export interface Proxy {
  readonly id: string;
  readonly type: 'sidecar' | 'router';
  /** The first instance IP. */
  readonly ip: string;
  readonly ips: readonly string[];
  readonly podName: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly serviceAccount: string;
  readonly clusterId: string;
  readonly workloadName: string;
  readonly interceptionMode: 'REDIRECT' | 'TPROXY' | 'NONE';
  /** `grpc` for proxyless gRPC clients, `envoy` otherwise. */
  readonly generator: 'envoy' | 'grpc';
  readonly istioVersion: string;
  readonly locality: Locality;
  readonly metadata: Readonly<Record<string, unknown>>;
  /** How its access to credentialName Secrets is decided (set by the xDS server; absent: `open`). */
  readonly credentialAccess?: CredentialAccess | undefined;
}

/** The fields of an xDS Node (canonical JSON) that identify a proxy. */
export interface NodeInfo {
  readonly id?: string | undefined;
  readonly cluster?: string | undefined;
  readonly metadata?: Readonly<Record<string, unknown>> | undefined;
  readonly locality?:
    { readonly region?: string; readonly zone?: string; readonly subZone?: string } | undefined;
}

export type ProxyResult = { ok: true; proxy: Proxy } | { ok: false; error: string };

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

function labelsFrom(v: unknown): Record<string, string> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return {};
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) if (typeof val === 'string') out[k] = val;
  return out;
}

/** Parses a node into the proxy view, or says why it cannot. */
export function parseProxy(node: NodeInfo): ProxyResult {
  const id = node.id ?? '';
  const parts = id.split('~');
  const meta = node.metadata ?? {};
  if (parts.length !== 4)
    return { ok: false, error: `node id ${JSON.stringify(id)}: want <type>~<ip>~<pod>.<ns>~<domain>` };
  const [type, ip, podDotNs, domain] = parts as [string, string, string, string];
  if (type !== 'sidecar' && type !== 'router')
    return { ok: false, error: `node id ${JSON.stringify(id)}: unknown proxy type ${type}` };
  const dot = podDotNs.indexOf('.');
  const podName = dot < 0 ? podDotNs : podDotNs.slice(0, dot);
  const namespace =
    str(meta['NAMESPACE']) ?? (dot < 0 ? (domain.split('.')[0] ?? 'default') : podDotNs.slice(dot + 1));
  const instanceIps =
    str(meta['INSTANCE_IPS'])
      ?.split(',')
      .map((s) => s.trim())
      .filter(Boolean) ?? [];
  const ips = instanceIps.length > 0 ? instanceIps : [ip];
  const mode = str(meta['INTERCEPTION_MODE']);
  return {
    ok: true,
    proxy: {
      id,
      type,
      ip: ips[0] ?? ip,
      ips,
      podName,
      namespace,
      labels: labelsFrom(meta['LABELS']),
      serviceAccount: str(meta['SERVICE_ACCOUNT']) ?? 'default',
      clusterId: str(meta['CLUSTER_ID']) ?? 'Kubernetes',
      workloadName: str(meta['WORKLOAD_NAME']) ?? podName,
      interceptionMode: mode === 'NONE' || mode === 'TPROXY' ? mode : 'REDIRECT',
      generator: str(meta['GENERATOR']) === 'grpc' ? 'grpc' : 'envoy',
      istioVersion: str(meta['ISTIO_VERSION']) ?? '',
      locality: {
        region: node.locality?.region ?? '',
        zone: node.locality?.zone ?? '',
        subZone: node.locality?.subZone ?? '',
      },
      metadata: meta,
    },
  };
}

/** `region/zone/subzone` as Istio writes localities. */
export function localityString(l: Locality): string {
  return [l.region, l.zone, l.subZone].join('/').replace(/\/+$/, '');
}
