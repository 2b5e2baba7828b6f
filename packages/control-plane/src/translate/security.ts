// The seam for security translation (PeerAuthentication, AuthorizationPolicy, mTLS contexts —
// another issue): generators ask these small hooks for transport sockets and filters, and use
// what they return. The default contributes nothing beyond Istio's own DestinationRule TLS.
import type { clusterV3, listenerComponentsV3, httpConnectionManagerV3 } from '@skein/api-types';
import type { ClientTLSSettings } from '../model/istio-types.js';
import type { Service, ServicePort } from '../model/services.js';
import type { TranslateContext } from './context.js';

export type TransportSocketJson = NonNullable<clusterV3.ClusterJson['transportSocket']>;
export type TransportSocketMatchJson = NonNullable<clusterV3.ClusterJson['transportSocketMatches']>[number];
export type FilterChainJson = listenerComponentsV3.FilterChainJson;
export type HttpFilterJson = httpConnectionManagerV3.HttpFilterJson;
export type NetworkFilterJson = listenerComponentsV3.FilterJson;

export interface UpstreamTlsInput {
  readonly service: Service;
  readonly port: ServicePort;
  readonly subset: string;
  /** The DestinationRule's effective tls settings for this cluster, when it has any. */
  readonly tls: ClientTLSSettings | undefined;
}

export interface InboundPort {
  /** The port the workload listens on (the inbound cluster's port). */
  readonly port: number;
  readonly protocol: 'HTTP' | 'TCP';
}

export interface SecurityContributor {
  /**
   * The transport socket for an outbound cluster. Return undefined to fall back to the
   * DestinationRule's SIMPLE/MUTUAL settings (ISTIO_MUTUAL and auto-mTLS belong here).
   */
  upstreamTransportSocket?(ctx: TranslateContext, input: UpstreamTlsInput): TransportSocketJson | undefined;
  /**
   * Per-endpoint transport sockets for an outbound cluster (auto mTLS to a service whose
   * endpoints are only partly in the mesh: EDS metadata `tlsMode: istio` → mTLS, else plaintext).
   * When it returns entries the cluster gets them instead of a single transport socket.
   */
  upstreamTransportSocketMatches?(
    ctx: TranslateContext,
    input: UpstreamTlsInput,
  ): TransportSocketMatchJson[] | undefined;
  /** HTTP filters placed before the router on an inbound port (RBAC, JWT, ...). */
  inboundHttpFilters?(ctx: TranslateContext, port: InboundPort): HttpFilterJson[];
  /** Network filters placed before tcp_proxy on an inbound TCP port (network RBAC). */
  inboundNetworkFilters?(ctx: TranslateContext, port: InboundPort): NetworkFilterJson[];
  /**
   * The filter chains for one inbound port given the plaintext chain (e.g. PERMISSIVE: a TLS
   * chain plus the plaintext one; STRICT: the TLS chain only). Default: the plaintext chain.
   */
  inboundFilterChains?(
    ctx: TranslateContext,
    port: InboundPort,
    plaintext: FilterChainJson,
  ): FilterChainJson[];
}

/** No security contributions: plaintext between sidecars (until the security issue plugs in). */
export const noSecurity: SecurityContributor = {};
