// Envoy TLS configuration for mesh mTLS (canonical JSON): the inbound filter chains a
// PeerAuthentication mode implies, and the ISTIO_MUTUAL upstream context with SPIFFE SAN checks.
import type { coreConfigSourceV3, listenerComponentsV3, tlsV3 } from '@skein/api-types';
import { spiffeId } from '../pki/spiffe.js';
import type { MtlsMode } from './mtls-mode.js';

export const DOWNSTREAM_TLS_TYPE =
  'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext';
export const UPSTREAM_TLS_TYPE =
  'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext';
export const TLS_INSPECTOR_TYPE =
  'type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector';

/** ALPN values a mesh client offers first so a PERMISSIVE server tells mesh mTLS from app TLS. */
export const MESH_ALPN = ['istio-peer-exchange', 'istio'];

/** Istio's ALPN for HTTP inside mesh mTLS: what the client sidecar knows it carries. */
export const MESH_HTTP_ALPN = ['istio-http/1.0', 'istio-http/1.1', 'istio-h2'];

/** Every ALPN value a mesh client may offer: what a PERMISSIVE server's mesh TLS chain matches. */
export const ALL_MESH_ALPN = [...MESH_ALPN, ...MESH_HTTP_ALPN];

/** The protocol an outbound cluster carries, as far as the client side knows it. */
export type MeshUpstreamProtocol = 'HTTP' | 'HTTP2' | 'TCP' | 'UNKNOWN';

/**
 * The ALPN list of an ISTIO_MUTUAL cluster, as Istio's client sidecars offer it: HTTP/1.x →
 * `istio-http/1.1, istio, http/1.1`; h2 (http2, grpc) → `istio-h2, istio, h2`; TCP →
 * `istio-peer-exchange, istio` (TCP metadata exchange). A sniffed port's cluster carries both
 * HTTP and TCP: it lists the TCP markers and both HTTP protocols, and the proxy's HTTP side
 * offers the `istio-http/*` list for the protocol of each connection (Istio's `istio.alpn` filter).
 */
export function meshUpstreamAlpn(protocol: MeshUpstreamProtocol): string[] {
  switch (protocol) {
    case 'HTTP':
      return ['istio-http/1.1', 'istio', 'http/1.1'];
    case 'HTTP2':
      return ['istio-h2', 'istio', 'h2'];
    case 'TCP':
      return [...MESH_ALPN];
    case 'UNKNOWN':
      return [...MESH_ALPN, 'h2', 'http/1.1'];
  }
}

/**
 * The SDS config pointing at the agent's socket (the bootstrap's `sds-grpc` cluster). As Istio's
 * `sds-grpc` source, it waits for the workload certificate as long as it takes
 * (`initial_fetch_timeout: 0s`; Envoy's default of 15 s would bring listeners up without it).
 */
export function sdsConfig(clusterName = 'sds-grpc'): coreConfigSourceV3.ConfigSourceJson {
  return {
    initialFetchTimeout: '0s',
    apiConfigSource: {
      apiType: 'GRPC',
      transportApiVersion: 'V3',
      grpcServices: [{ envoyGrpc: { clusterName } }],
      setNodeOnFirstMessageOnly: true,
    },
    resourceApiVersion: 'V3',
  };
}

function meshCommonContext(alpn: string[], sans: string[] | undefined): tlsV3.CommonTlsContextJson {
  return {
    tlsParams: { tlsMinimumProtocolVersion: 'TLSv1_2' },
    alpnProtocols: alpn,
    tlsCertificateSdsSecretConfigs: [{ name: 'default', sdsConfig: sdsConfig() }],
    combinedValidationContext: {
      defaultValidationContext:
        sans && sans.length > 0
          ? {
              matchTypedSubjectAltNames: sans.map((s) => ({
                sanType: 'URI' as const,
                matcher: { exact: s },
              })),
            }
          : {},
      validationContextSdsSecretConfig: { name: 'ROOTCA', sdsConfig: sdsConfig() },
    },
  };
}

/** The server side of mesh mTLS: present `default`, require a client certificate chained to ROOTCA. */
export function meshDownstreamTlsContext(): tlsV3.DownstreamTlsContextJson {
  return {
    requireClientCertificate: true,
    commonTlsContext: meshCommonContext(['h2', 'http/1.1'], undefined),
  };
}

/**
 * The client side of ISTIO_MUTUAL: present `default`, verify the server chains to ROOTCA and
 * carries one of the expected SPIFFE identities (the destination's service accounts).
 */
export function istioMutualUpstreamTlsContext(o: {
  sni: string;
  subjectAltNames: string[];
  /** The ALPN list (see meshUpstreamAlpn); default: a sniffed port's. */
  alpn?: string[];
}): tlsV3.UpstreamTlsContextJson {
  return {
    sni: o.sni,
    commonTlsContext: meshCommonContext(o.alpn ?? meshUpstreamAlpn('UNKNOWN'), o.subjectAltNames),
  };
}

/** Istio's SNI for mesh traffic to a cluster: outbound_.<port>_.<subset>_.<host>. */
export function meshSni(port: number, subset: string, host: string): string {
  return `outbound_.${port}_.${subset}_.${host}`;
}

/** The SPIFFE identities a destination may present: its service accounts in the trust domain. */
export function expectedIdentities(
  trustDomain: string,
  accounts: { namespace: string; serviceAccount: string }[],
): string[] {
  return [...new Set(accounts.map((a) => spiffeId({ trustDomain, ...a })))].sort();
}

/** A transport socket holding a TLS context. */
export function tlsTransportSocket(
  ctx: tlsV3.DownstreamTlsContextJson | tlsV3.UpstreamTlsContextJson,
  type: typeof DOWNSTREAM_TLS_TYPE | typeof UPSTREAM_TLS_TYPE,
): { name: string; typedConfig: { '@type': string } } {
  return { name: 'envoy.transport_sockets.tls', typedConfig: { '@type': type, ...ctx } };
}

/**
 * Auto mTLS for a cluster: endpoints labelled `tlsMode: istio` (sidecar-injected) get the
 * ISTIO_MUTUAL context, others plaintext — Envoy's transport_socket_matches.
 */
export function autoMtlsTransportSocketMatches(ctx: tlsV3.UpstreamTlsContextJson): {
  name: string;
  match: Record<string, string>;
  transportSocket: { name: string; typedConfig: { '@type': string } };
}[] {
  return [
    {
      name: 'tlsMode-istio',
      match: { tlsMode: 'istio' },
      transportSocket: tlsTransportSocket(ctx, UPSTREAM_TLS_TYPE),
    },
    {
      name: 'tlsMode-disabled',
      match: {},
      transportSocket: {
        name: 'envoy.transport_sockets.raw_buffer',
        typedConfig: {
          '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer',
        },
      },
    },
  ];
}

/** One inbound filter chain variant: the match to add and the transport socket (none: plaintext). */
export interface InboundChainVariant {
  filterChainMatch: listenerComponentsV3.FilterChainMatchJson;
  transportSocket?: { name: string; typedConfig: { '@type': string } };
  /** For metrics: `mutual_tls` or `none`. */
  connectionSecurityPolicy: 'mutual_tls' | 'none';
}

/**
 * The filter chain variants for an inbound port under a mode (the caller adds destination_port and
 * its own filters to each). STRICT: mesh TLS only — plaintext matches no chain and is refused.
 * PERMISSIVE: mesh TLS (by ALPN: any of Istio's mesh values) plus plaintext and non-mesh TLS. DISABLE: everything as is.
 * The listener needs the TLS inspector (tlsInspectorFilter) for STRICT and PERMISSIVE.
 */
export function inboundChainVariants(mode: MtlsMode): InboundChainVariant[] {
  const tls = tlsTransportSocket(meshDownstreamTlsContext(), DOWNSTREAM_TLS_TYPE);
  switch (mode) {
    case 'STRICT':
      return [
        {
          filterChainMatch: { transportProtocol: 'tls' },
          transportSocket: tls,
          connectionSecurityPolicy: 'mutual_tls',
        },
      ];
    case 'PERMISSIVE':
      return [
        {
          filterChainMatch: { transportProtocol: 'tls', applicationProtocols: [...ALL_MESH_ALPN] },
          transportSocket: tls,
          connectionSecurityPolicy: 'mutual_tls',
        },
        { filterChainMatch: {}, connectionSecurityPolicy: 'none' },
      ];
    case 'DISABLE':
      return [{ filterChainMatch: {}, connectionSecurityPolicy: 'none' }];
  }
}

export function tlsInspectorFilter(): listenerComponentsV3.ListenerFilterJson {
  return { name: 'envoy.filters.listener.tls_inspector', typedConfig: { '@type': TLS_INSPECTOR_TYPE } };
}
