// Bootstrap loading: YAML and JSON, snake_case or camelCase, schema errors, unsupported fields.
import { describe, expect, it } from 'vitest';
import { parseBootstrap } from './load-bootstrap.js';

describe('parseBootstrap', () => {
  it('reads YAML with snake_case names into canonical camelCase JSON', () => {
    const { bootstrap, unsupported } = parseBootstrap(`
node: { id: sidecar~1.2.3.4~a.ns~ns.svc.cluster.local, cluster: a }
admin: { address: { socket_address: { address: 127.0.0.1, port_value: 15000 } } }
static_resources:
  clusters:
  - name: c
    connect_timeout: 1.5s
    type: STATIC
`);
    expect(bootstrap.admin?.address?.socketAddress?.portValue).toBe(15000);
    expect(bootstrap.staticResources?.clusters?.[0]?.connectTimeout).toBe('1.500s');
    expect(unsupported).toEqual([]);
  });

  it('reads JSON too', () => {
    expect(parseBootstrap('{"node":{"id":"x"}}').bootstrap.node?.id).toBe('x');
  });

  it('rejects fields the Envoy schema does not have', () => {
    expect(() => parseBootstrap('{"nodee":{}}')).toThrow(/nodee/);
  });

  it('names fields skein-proxy does not implement', () => {
    const { unsupported } = parseBootstrap(`
static_resources:
  clusters:
  - name: c
    health_checks: [{ timeout: 1s, interval: 1s, tcp_health_check: {}, always_log_health_check_failures: true }]
    transport_socket:
      name: tls
      typed_config:
        '@type': type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
        common_tls_context: { tls_certificates: [{ certificate_chain: { filename: /c.pem } }] }
        max_session_keys: 3
hds_config: { api_type: GRPC }
`);
    expect(unsupported).toEqual([
      'staticResources.clusters[0].healthChecks[0].alwaysLogHealthCheckFailures',
      'staticResources.clusters[0].transportSocket.typedConfig.maxSessionKeys',
      'hdsConfig',
    ]);
  });
});
