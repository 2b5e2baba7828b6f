// Listeners terminating TLS: a listener (e.g. from httpListener) with a DownstreamTlsContext on its
// first filter chain, given inline or as a certificate delivered over SDS.

const DOWNSTREAM_TLS = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext';

/** `listener` with its first filter chain terminating TLS with `context` (DownstreamTlsContext fields). */
export function withDownstreamTls(
  listener: Record<string, unknown>,
  context: Record<string, unknown>,
): Record<string, unknown> {
  const [first, ...rest] = listener['filter_chains'] as Record<string, unknown>[];
  const transport_socket = {
    name: 'envoy.transport_sockets.tls',
    typed_config: { '@type': DOWNSTREAM_TLS, ...context },
  };
  return { ...listener, filter_chains: [{ ...first, transport_socket }, ...rest] };
}

/** `listener` terminating TLS with the SDS certificate `secret` from `sdsConfig`. */
export function withSdsCertificate(
  listener: Record<string, unknown>,
  secret: string,
  sdsConfig: Record<string, unknown>,
): Record<string, unknown> {
  return withDownstreamTls(listener, {
    common_tls_context: { tls_certificate_sds_secret_configs: [{ name: secret, sds_config: sdsConfig }] },
  });
}
