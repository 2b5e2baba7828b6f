// SDS over the ADS stream (`sds_config: { ads: {} }`, how istiod serves a gateway's credentialName
// secrets): the listener warms until the secret arrives on the same stream, then serves it, and a
// replaced certificate reaches new handshakes.
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TypeUrl } from '@skein/api-types';
import { startProxy, startTestAdsServer, type RunningProxy, type TestAdsServer } from '../src/index.js';
import { hasOpenssl, makePki, type Leaf, type TestPki } from './helpers/certs.js';
import { adsBootstrap } from './helpers/xds-resources.js';
import { freePort } from './helpers/free-port.js';
import { HCM, ROUTER } from './helpers/upstreams.js';
import { nextXds } from './helpers/xds-events.js';

const TLS = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.';
const SECRET = 'kubernetes://gateway-cred';
const ready = hasOpenssl();

let pki: TestPki;
let first: Leaf;
let second: Leaf;
let ads: TestAdsServer;
let proxy: RunningProxy;
let port: number;

const secret = (l: Leaf) => ({
  name: SECRET,
  tlsCertificate: {
    certificateChain: { inlineBytes: Buffer.from(l.cert).toString('base64') },
    privateKey: { inlineBytes: Buffer.from(l.key).toString('base64') },
  },
});

function listener(): Record<string, unknown> {
  return {
    name: 'https',
    address: { socket_address: { address: '127.0.0.1', port_value: port } },
    filter_chains: [
      {
        transport_socket: {
          name: 'envoy.transport_sockets.tls',
          typed_config: {
            '@type': `${TLS}DownstreamTlsContext`,
            common_tls_context: {
              tls_certificate_sds_secret_configs: [
                { name: SECRET, sds_config: { ads: {}, resource_api_version: 'V3' } },
              ],
            },
          },
        },
        filters: [
          {
            name: 'envoy.filters.network.http_connection_manager',
            typed_config: {
              '@type': HCM,
              stat_prefix: 'https',
              route_config: {
                name: 'r',
                virtual_hosts: [
                  {
                    name: 'all',
                    domains: ['*'],
                    routes: [
                      {
                        match: { prefix: '/' },
                        direct_response: { status: 200, body: { inline_string: 'ok' } },
                      },
                    ],
                  },
                ],
              },
              http_filters: [ROUTER],
            },
          },
        ],
      },
    ],
  };
}

/** The DNS SAN of the certificate the listener presents, or the error. */
function presented(): Promise<string> {
  return new Promise((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port, ca: pki.ca, servername: 'gw.example' });
    s.once('secureConnect', () => {
      resolve(s.getPeerX509Certificate()?.subjectAltName ?? '');
      s.end();
    });
    s.once('error', (e) => resolve(`error: ${e.message}`));
  });
}

describe.skipIf(!ready)('SDS over ADS', () => {
  beforeAll(async () => {
    pki = makePki();
    first = pki.leaf('', { dns: ['gw.example', 'first.example'] });
    second = pki.leaf('', { dns: ['gw.example', 'second.example'] });
    ads = await startTestAdsServer();
    port = await freePort();
    ads.set(TypeUrl.Cluster, [], 'c1');
    ads.set(TypeUrl.Listener, [listener()], 'l1');
    proxy = await startProxy(adsBootstrap(ads.port), {
      logLevel: 'off',
      xdsBackoffMs: { base: 50, max: 200 },
    });
  }, 60_000);

  afterAll(async () => {
    await proxy?.stop();
    await ads?.close();
    pki?.cleanup();
  });

  it('requests the secret on the ADS stream and keeps the listener warming until it comes', async () => {
    const sub = await ads.waitForRequest((r) => r.typeUrl === TypeUrl.Secret && r.resourceNames.length > 0);
    expect(sub.resourceNames).toEqual([SECRET]);
    expect(await presented()).toMatch(/^error: .*ECONNREFUSED/);
    const applied = nextXds(proxy, (e) => e.typeUrl === TypeUrl.Secret && e.accepted);
    ads.set(TypeUrl.Secret, [secret(first)], 's1');
    await applied;
    await proxy.waitReady();
    expect(await presented()).toContain('DNS:first.example');
    // config_dump shows the secret, never its private key (Envoy redacts it too).
    const dump = proxy.configDump();
    expect(dump).toContain(SECRET);
    expect(dump).toContain('[redacted]');
    expect(dump).not.toContain(Buffer.from(first.key).toString('base64'));
  });

  it('serves a replaced certificate to new handshakes', async () => {
    const applied = nextXds(proxy, (e) => e.typeUrl === TypeUrl.Secret && e.version === 's2');
    ads.set(TypeUrl.Secret, [secret(second)], 's2');
    await applied;
    expect(await presented()).toContain('DNS:second.example');
  });
});
