// Listeners terminating TLS with a certificate delivered over SDS, for the tests of secret warming,
// initial_fetch_timeout and removal.

/**
 * `listener` (e.g. from httpListener) with its first filter chain terminating TLS with the SDS
 * certificate `secret` from `sdsConfig`.
 */
export function withSdsCertificate(
  listener: Record<string, unknown>,
  secret: string,
  sdsConfig: Record<string, unknown>,
): Record<string, unknown> {
  const [first, ...rest] = listener['filter_chains'] as Record<string, unknown>[];
  const transport_socket = {
    name: 'envoy.transport_sockets.tls',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
      common_tls_context: { tls_certificate_sds_secret_configs: [{ name: secret, sds_config: sdsConfig }] },
    },
  };
  return { ...listener, filter_chains: [{ ...first, transport_socket }, ...rest] };
}
