// Mutual TLS between two proxies: the client sidecar originates TLS with a certificate and trust
// fetched over SDS (from the test server's SecretDiscoveryService, as the agent serves them), the
// server sidecar terminates it with a DownstreamTlsContext that requires a client certificate and
// checks its SPIFFE SAN; Istio metrics on the server name the caller's principal.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TypeUrl } from '@skein/api-types';
import { startProxy, startTestAdsServer, type RunningProxy, type TestAdsServer } from '../src/index.js';
import { ADMIN, get, httpListener, startEcho, staticCluster, type Echo } from './helpers/upstreams.js';
import { hasOpenssl, makePki, type TestPki } from './helpers/certs.js';
import { withDownstreamTls } from './helpers/downstream-tls.js';
import { certSecret, rootSecret } from './helpers/sds-secrets.js';

const CLIENT_ID = 'spiffe://cluster.local/ns/default/sa/client';
const SERVER_ID = 'spiffe://cluster.local/ns/default/sa/server';
const SVC = 'server.default.svc.cluster.local';
const TLS = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.';

let pki: TestPki;
let sds: TestAdsServer;
let app: Echo;
let server: RunningProxy;
let client: RunningProxy;
let clientPort: number;

const sdsSource = {
  api_config_source: {
    api_type: 'GRPC',
    transport_api_version: 'V3',
    grpc_services: [{ envoy_grpc: { cluster_name: 'sds-grpc' } }],
  },
  resource_api_version: 'V3',
};

function upstreamTls(expectSan: string): Record<string, unknown> {
  return {
    transport_socket: {
      name: 'envoy.transport_sockets.tls',
      typed_config: {
        '@type': `${TLS}UpstreamTlsContext`,
        sni: `outbound_.80_._.${SVC}`,
        common_tls_context: {
          tls_certificate_sds_secret_configs: [{ name: 'default', sds_config: sdsSource }],
          combined_validation_context: {
            default_validation_context: {
              match_typed_subject_alt_names: [{ san_type: 'URI', matcher: { exact: expectSan } }],
            },
            validation_context_sds_secret_config: { name: 'ROOTCA', sds_config: sdsSource },
          },
        },
      },
    },
  };
}

// Skipped only where Debian's openssl is missing (it is part of every machine of this kind).
describe.skipIf(!hasOpenssl())('mTLS between two skein-proxies', () => {
  beforeAll(async () => {
    pki = makePki();
    const serverLeaf = pki.leaf(SERVER_ID);
    const clientLeaf = pki.leaf(CLIENT_ID);
    sds = await startTestAdsServer();
    sds.set(TypeUrl.Secret, [certSecret(clientLeaf), rootSecret(pki)]);
    app = await startEcho('server-app');
    const inbound = httpListener(
      'inbound',
      {
        name: 'in',
        virtual_hosts: [
          {
            name: 'in',
            domains: ['*'],
            routes: [{ match: { prefix: '/' }, route: { cluster: 'inbound|8080||' } }],
          },
        ],
      },
      {},
      { traffic_direction: 'INBOUND' },
    );
    const inboundTls = withDownstreamTls(inbound, {
      require_client_certificate: true,
      common_tls_context: {
        tls_certificates: [
          {
            certificate_chain: { inline_string: serverLeaf.cert },
            private_key: { inline_string: serverLeaf.key },
          },
        ],
        validation_context: {
          trusted_ca: { inline_string: pki.ca },
          match_typed_subject_alt_names: [
            { san_type: 'URI', matcher: { prefix: 'spiffe://cluster.local/ns/default/' } },
          ],
        },
      },
    });
    const meta = (name: string, appName: string) => ({
      id: `sidecar~127.0.0.1~${name}.default~default.svc.cluster.local`,
      metadata: {
        NAMESPACE: 'default',
        WORKLOAD_NAME: name,
        SERVICE_ACCOUNT: appName,
        LABELS: { app: appName },
      },
    });
    server = await startProxy(
      {
        node: meta('server-v1', 'server'),
        admin: ADMIN,
        static_resources: {
          listeners: [inboundTls],
          clusters: [staticCluster('inbound|8080||', [app.port])],
        },
      },
      { logLevel: 'off' },
    );
    const serverPort = server.listenerAddress('inbound')?.port ?? 0;
    const routes = {
      name: 'out',
      virtual_hosts: [
        {
          name: SVC,
          domains: ['*'],
          routes: [
            { match: { prefix: '/wrong-san' }, route: { cluster: 'wrong-san' } },
            { match: { prefix: '/' }, route: { cluster: `outbound|80||${SVC}` } },
          ],
        },
      ],
    };
    client = await startProxy(
      {
        node: meta('client-v1', 'client'),
        admin: ADMIN,
        static_resources: {
          listeners: [httpListener('outbound', routes, {}, { traffic_direction: 'OUTBOUND' })],
          clusters: [
            staticCluster(`outbound|80||${SVC}`, [serverPort], upstreamTls(SERVER_ID)),
            staticCluster(
              'wrong-san',
              [serverPort],
              upstreamTls('spiffe://cluster.local/ns/other/sa/impostor'),
            ),
            staticCluster('sds-grpc', [sds.port], {
              typed_extension_protocol_options: {
                'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
                  '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
                  explicit_http_config: { http2_protocol_options: {} },
                },
              },
            }),
          ],
        },
      },
      { logLevel: 'off' },
    );
    // Wait until both SDS secrets arrived (its clusters warm until then, as Envoy's: the start too).
    while (!client.secrets.get('default') || !client.secrets.get('ROOTCA')) {
      await new Promise<void>((r) => client.once('xds', () => r()));
    }
    await client.waitReady();
    clientPort = client.listenerAddress('outbound')?.port ?? 0;
  });

  afterAll(async () => {
    await client?.stop();
    await server?.stop();
    await sds?.close();
    await app?.close();
    pki?.cleanup();
  });

  it('carries requests over mutual TLS with certificates from SDS', async () => {
    const r = await get(clientPort, '/hello', { host: SVC });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text).name).toBe('server-app');
    const sdsReq = await sds.waitForRequest((q) => q.typeUrl === TypeUrl.Secret);
    expect([...sdsReq.resourceNames].sort()).toEqual(['ROOTCA', 'default']);
  });

  it('reports the caller principal and mutual_tls on the server side', async () => {
    const prom = await (await fetch(`http://127.0.0.1:${server.adminAddress?.port}/stats/prometheus`)).text();
    const line = prom
      .split('\n')
      .find((l) => l.startsWith('istio_requests_total{') && l.includes('response_code="200"'));
    expect(line).toContain(`source_principal="${CLIENT_ID}"`);
    expect(line).toContain('connection_security_policy="mutual_tls"');
    expect(line).toContain('source_workload="client-v1"');
  });

  it('refuses a server whose SAN does not match (503 UF)', async () => {
    const r = await get(clientPort, '/wrong-san', { host: SVC });
    expect(r.status).toBe(503);
    expect(client.stats.value('http.outbound.response_flag.UF')).toBeGreaterThanOrEqual(1);
  });

  it('rejects a plaintext client at the TLS listener', async () => {
    await expect(get(server.listenerAddress('inbound')?.port ?? 0, '/')).rejects.toThrow();
  });
});
