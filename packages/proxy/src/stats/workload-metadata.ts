// This proxy's workload identity from bootstrap node metadata (the keys Istio's agent writes),
// and its encoding for metadata exchange between proxies: the `x-envoy-peer-metadata-id` header
// carries the node id and `x-envoy-peer-metadata` base64 JSON of the fields below (Istio sends a
// base64 protobuf Struct; Skein proxies exchange this documented JSON equivalent).
import type { PeerMetadata } from '../http-connection-manager/stream-info.js';

export const PEER_METADATA_HEADER = 'x-envoy-peer-metadata';
export const PEER_METADATA_ID_HEADER = 'x-envoy-peer-metadata-id';

type Struct = Record<string, unknown>;

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** Workload metadata of the local proxy from node.metadata. */
export function workloadFromNode(metadata: Struct | undefined): PeerMetadata {
  const m = metadata ?? {};
  const labels = (m['LABELS'] && typeof m['LABELS'] === 'object' ? m['LABELS'] : {}) as Record<
    string,
    string
  >;
  const app = labels['service.istio.io/canonical-name'] ?? labels['app.kubernetes.io/name'] ?? labels['app'];
  const version =
    labels['service.istio.io/canonical-revision'] ?? labels['app.kubernetes.io/version'] ?? labels['version'];
  const out: PeerMetadata = { labels };
  const set = <K extends keyof PeerMetadata>(k: K, v: PeerMetadata[K] | undefined): void => {
    if (v !== undefined) out[k] = v;
  };
  set('workload', str(m['WORKLOAD_NAME']));
  set('namespace', str(m['NAMESPACE']));
  set('serviceAccount', str(m['SERVICE_ACCOUNT']));
  set('clusterId', str(m['CLUSTER_ID']));
  set('app', str(labels['app']) ?? app);
  set('version', str(labels['version']) ?? version);
  set('canonicalService', app ?? str(m['WORKLOAD_NAME']));
  set('canonicalRevision', version);
  return out;
}

export function encodePeerMetadata(p: PeerMetadata): string {
  return Buffer.from(JSON.stringify(p)).toString('base64');
}

export function decodePeerMetadata(v: string | undefined): PeerMetadata | undefined {
  if (!v) return undefined;
  try {
    const o: unknown = JSON.parse(Buffer.from(v, 'base64').toString('utf8'));
    return o && typeof o === 'object' ? (o as PeerMetadata) : undefined;
  } catch {
    return undefined;
  }
}

/** The principal (SPIFFE id) of a workload, when its trust domain is known. */
export function principalOf(p: PeerMetadata | undefined, trustDomain = 'cluster.local'): string {
  if (!p?.namespace || !p.serviceAccount) return 'unknown';
  return `spiffe://${trustDomain}/ns/${p.namespace}/sa/${p.serviceAccount}`;
}
