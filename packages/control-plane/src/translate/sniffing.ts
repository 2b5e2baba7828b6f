// Protocol sniffing for ports whose protocol is unknown (no name prefix, no appProtocol), as
// Istio does it: the HTTP inspector reads the first bytes, a filter chain matching the HTTP
// application protocols gets the HTTP connection manager and every other connection the TCP chain.
import type { listenerComponentsV3 } from '@skein/api-types';
import type { MeshConfig } from '../model/mesh-config.js';
import { duration, durationSeconds, FilterName, T, typed } from './envoy.js';

/** What the HTTP inspector reports for plaintext HTTP/1.x and HTTP/2 prior knowledge. */
export const HTTP_APPLICATION_PROTOCOLS = ['http/1.0', 'http/1.1', 'h2c'] as const;

/**
 * Inside mesh mTLS the client's ALPN says what it carries (Istio's `istio-http/*` / `istio-h2`);
 * a client offering only `istio` / `istio-peer-exchange` lands on the TCP chain.
 */
export const MTLS_HTTP_APPLICATION_PROTOCOLS = ['istio-http/1.0', 'istio-http/1.1', 'istio-h2'] as const;

export function httpInspector(): listenerComponentsV3.ListenerFilterJson {
  return { name: FilterName.httpInspector, typedConfig: typed(T.httpInspector, {}) };
}

/**
 * Listener settings for sniffing: a connection whose first bytes do not arrive in time (a
 * server-first protocol) continues to the TCP chain. The timeout is the mesh config's
 * `protocolDetectionTimeout` when set and non-zero; otherwise the proxy's default applies.
 */
export function sniffingTimeout(mesh: MeshConfig): {
  continueOnListenerFiltersTimeout: true;
  listenerFiltersTimeout?: string;
} {
  const t = mesh.protocolDetectionTimeout;
  const s = t ? durationSeconds(t) : undefined;
  return {
    continueOnListenerFiltersTimeout: true,
    ...(t && s !== undefined && s > 0 ? { listenerFiltersTimeout: duration(t) } : {}),
  };
}
