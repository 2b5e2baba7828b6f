// A cluster's transport_socket_matches: the transport socket (and so the connection pools) each
// endpoint gets. An endpoint's `envoy.transport_socket_match` metadata is matched against each
// entry's `match` in order (every key of the match present with an equal value; an empty match
// takes any endpoint); when no entry matches it, its locality's (LocalityLbEndpoints.metadata)
// is tried the same way, as Envoy; no match → the cluster's own transport_socket. This is how Istio's auto
// mTLS reaches a service whose pods are half in the mesh (`tlsMode: istio` → mTLS, else plaintext).
import type { clusterV3, endpointV3, tlsV3 } from '@skein/api-types';
import { makeHost } from '../endpoint/host.js';
import { UpstreamPools, type PoolOptions } from '../endpoint/upstream-pools.js';
import { compileTlsContext, UPSTREAM_TLS, type TlsContext } from '../transport-socket/tls-context.js';
import type { SecretStore } from '../transport-socket/secret-store.js';

/** The filter-metadata key Envoy reads endpoint transport-socket capabilities from. */
export const TRANSPORT_SOCKET_MATCH_KEY = 'envoy.transport_socket_match';

type TransportSocketJson = NonNullable<clusterV3.ClusterJson['transportSocket']>;

/** One transport socket of a cluster with the pools whose connections use it. */
export interface SocketChoice {
  /** The match's name, or `""` for the cluster's own transport_socket. */
  readonly name: string;
  readonly tls: TlsContext | undefined;
  readonly pools: UpstreamPools;
}

/** Compiles a transport socket: TLS (UpstreamTlsContext) or plaintext (raw_buffer / none). */
export function compileTransportSocket(
  ts: TransportSocketJson | undefined,
  where: string,
  secrets: SecretStore | undefined,
): TlsContext | undefined {
  const type = ts?.typedConfig?.['@type'];
  if (ts && type !== UPSTREAM_TLS && !(type ?? '').endsWith('RawBuffer'))
    throw new Error(`${where}: transport_socket ${type ?? ts.name ?? ''} is not supported`);
  return type === UPSTREAM_TLS && secrets
    ? compileTlsContext(ts?.typedConfig as tlsV3.UpstreamTlsContextJson, 'upstream', secrets)
    : undefined;
}

/** Whether endpoint metadata satisfies a match: every key present with an equal value. */
export function socketMatchApplies(
  match: Readonly<Record<string, unknown>> | undefined,
  metadata: Readonly<Record<string, unknown>> | undefined,
): boolean {
  for (const [k, v] of Object.entries(match ?? {}))
    if (JSON.stringify(metadata?.[k]) !== JSON.stringify(v)) return false;
  return true;
}

/**
 * Per host key, the index of the first transport_socket_matches entry its endpoint metadata
 * satisfies, else the first its locality's metadata satisfies; hosts matching none are absent
 * (they use the cluster's transport_socket).
 */
export function socketIndexByHost(
  matches: readonly { readonly match?: Readonly<Record<string, unknown>> | undefined }[],
  cla: endpointV3.ClusterLoadAssignmentJson | undefined,
): Map<string, number> {
  const out = new Map<string, number>();
  if (matches.length === 0) return out;
  type Md = Readonly<Record<string, unknown>> | undefined;
  for (const group of cla?.endpoints ?? []) {
    const locality = group.metadata?.filterMetadata?.[TRANSPORT_SOCKET_MATCH_KEY] as Md;
    for (const lbe of group.lbEndpoints ?? []) {
      const sa = lbe.endpoint?.address?.socketAddress;
      if (!sa?.address) continue;
      const md = lbe.metadata?.filterMetadata?.[TRANSPORT_SOCKET_MATCH_KEY] as Md;
      let i = matches.findIndex((m) => socketMatchApplies(m.match, md));
      if (i < 0 && locality) i = matches.findIndex((m) => socketMatchApplies(m.match, locality));
      if (i >= 0) out.set(makeHost(sa.address, sa.portValue ?? 0).key, i);
    }
  }
  return out;
}

/** The socket choices of a cluster's transport_socket_matches, each with pools of its own. */
export function compileSocketMatches(
  cluster: clusterV3.ClusterJson,
  secrets: SecretStore | undefined,
  pools: Omit<PoolOptions, 'tls'>,
): SocketChoice[] {
  return (cluster.transportSocketMatches ?? []).map((m, i) => {
    const name = m.name ?? `match-${i}`;
    const tls = compileTransportSocket(
      m.transportSocket,
      `cluster ${cluster.name ?? ''} transport_socket_matches[${name}]`,
      secrets,
    );
    return { name, tls, pools: new UpstreamPools({ ...pools, tls }) };
  });
}
