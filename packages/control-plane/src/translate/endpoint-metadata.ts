// Endpoint metadata Istio puts on EDS endpoints for auto mTLS: a workload labelled
// `security.istio.io/tlsMode: istio` (sidecar-injected) carries `tlsMode: istio` under
// `envoy.transport_socket_match`, which a cluster's transport_socket_matches select mTLS by.
import type { Workload } from '../model/services.js';

export const TLS_MODE_LABEL = 'security.istio.io/tlsMode';
export const TRANSPORT_SOCKET_MATCH_KEY = 'envoy.transport_socket_match';

/** The LbEndpoint metadata of a workload, or nothing when it says nothing about its TLS mode. */
export function endpointMetadata(
  w: Pick<Workload, 'labels'>,
): { metadata: { filterMetadata: Record<string, Record<string, string>> } } | Record<string, never> {
  const mode = w.labels[TLS_MODE_LABEL];
  return mode ? { metadata: { filterMetadata: { [TRANSPORT_SOCKET_MATCH_KEY]: { tlsMode: mode } } } } : {};
}
