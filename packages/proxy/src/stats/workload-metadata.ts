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

/** Encodings already made: a proxy's own metadata is one object for its life, encoded once. */
const encoded = new WeakMap<PeerMetadata, string>();

/** The header value for `p` (encoded once per metadata object; callers never mutate it after). */
export function encodePeerMetadata(p: PeerMetadata): string {
  let v = encoded.get(p);
  if (v === undefined) {
    v = Buffer.from(JSON.stringify(p)).toString('base64');
    encoded.set(p, v);
  }
  return v;
}

/** Distinct header values decoded lately: a peer sends the same value on every request. */
const decoded = new Map<string, PeerMetadata | undefined>();
const DECODED_MAX = 256;

/**
 * The peer metadata in a header value, decoded once per distinct value (a small bounded cache,
 * oldest out first). The object returned is shared between requests and must not be mutated.
 */
export function decodePeerMetadata(v: string | undefined): PeerMetadata | undefined {
  if (!v) return undefined;
  if (decoded.has(v)) return decoded.get(v);
  const p = decodeUncached(v);
  if (decoded.size >= DECODED_MAX) decoded.delete(decoded.keys().next().value as string);
  decoded.set(v, p);
  return p;
}

function decodeUncached(v: string): PeerMetadata | undefined {
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
