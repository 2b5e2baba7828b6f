// Delta SDS `removed_resources`, handled as Envoy does (envoyproxy/envoy#32961): an SDS secret is a
// singleton subscription that goes away only with the listener or cluster referencing it, so a
// removal is ACKed and ignored — the held certificate keeps serving new handshakes — while a
// removal of a secret never received ends its listener's warming (the listener serves, its
// handshakes fail until the secret arrives). Against the in-process server on DeltaSecrets.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TypeUrl } from '@skein/api-types';
import { startProxy, startTestAdsServer, type RunningProxy, type TestAdsServer } from '../src/index.js';
import { ADMIN, httpListener, startEcho, staticCluster, type Echo } from './helpers/upstreams.js';
import { hasOpenssl, makePki, type TestPki } from './helpers/certs.js';
import { certSecret } from './helpers/sds-secrets.js';
import { withSdsCertificate } from './helpers/downstream-tls.js';
import { handshake } from './helpers/tls-handshake.js';
import { until } from './helpers/until.js';

const ID = 'spiffe://cluster.local/ns/default/sa/server';

const deltaSds = {
  api_config_source: {
    api_type: 'DELTA_GRPC',
    transport_api_version: 'V3',
    grpc_services: [{ envoy_grpc: { cluster_name: 'sds-grpc' } }],
  },
  resource_api_version: 'V3',
};

/** An HTTP listener on 127.0.0.1:0 terminating TLS with the SDS certificate `secret`. */
function tlsListener(name: string, secret: string): Record<string, unknown> {
  const l = httpListener(name, {
    name,
    virtual_hosts: [
      { name, domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'app' } }] },
    ],
  });
  return withSdsCertificate(l, secret, deltaSds);
}

describe.skipIf(!hasOpenssl())('delta SDS removed_resources (as Envoy)', () => {
  let pki: TestPki;
  let sds: TestAdsServer;
  let app: Echo;
  let proxy: RunningProxy;

  beforeAll(async () => {
    pki = makePki();
    sds = await startTestAdsServer({ reportAbsent: true });
    sds.set(TypeUrl.Secret, [certSecret(pki.leaf(ID))]);
    app = await startEcho('app');
    proxy = await startProxy(
      {
        node: { id: 'sidecar~127.0.0.1~server.default~default.svc.cluster.local' },
        admin: ADMIN,
        static_resources: {
          listeners: [tlsListener('served', 'default'), tlsListener('missing', 'not-on-the-server')],
          clusters: [
            staticCluster('app', [app.port]),
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
  });

  afterAll(async () => {
    await proxy?.stop();
    await sds?.close();
    await app?.close();
    pki?.cleanup();
  });

  it('stops warming a listener whose secret the server removed before ever sending it', async () => {
    // Both secrets were asked for over DeltaSecrets; the server answered `default` and removed the other.
    const req = await sds.waitForRequest((r) => r.delta && r.resourceNames.includes('not-on-the-server'));
    expect(req.typeUrl).toBe(TypeUrl.Secret);
    await until('the proxy to be ready', () => proxy.isReady, { timeoutMs: 10_000 });
    const missing = proxy.listenerAddress('missing');
    expect(missing).toBeDefined();
    // it serves, but has no certificate: handshakes fail
    expect((await handshake(missing!.port)).fingerprint).toBeUndefined();
  });

  it('ACKs the removal of a secret in use and keeps serving it to new handshakes', async () => {
    const port = proxy.listenerAddress('served')!.port;
    const before = await handshake(port);
    expect(before.fingerprint).toBeDefined();
    const acks = sds.requests.length;
    sds.set(TypeUrl.Secret, []); // removed_resources: [default]
    const ack = await sds.waitForRequest(
      (r) => sds.requests.indexOf(r) >= acks && r.delta && r.responseNonce !== '',
    );
    expect(ack.errorDetail).toBeUndefined();
    expect(await handshake(port)).toEqual(before);
    // and a later certificate for it still arrives and serves
    const next = pki.leaf(ID);
    sds.set(TypeUrl.Secret, [certSecret(next)]);
    await until(
      'the new certificate',
      async () => (await handshake(port)).fingerprint !== before.fingerprint,
      { timeoutMs: 10_000 },
    );
  });
});
