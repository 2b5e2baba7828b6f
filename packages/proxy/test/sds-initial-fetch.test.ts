// SDS initial_fetch_timeout, as Envoy's: a listener whose SDS secret has not arrived when its
// sds_config's initial_fetch_timeout runs out stops holding the start — it comes up without the
// secret (handshakes fail until it arrives) and `sds.<secret>.init_fetch_timeout` counts it —
// while `0s` keeps waiting. Over an SDS stream (StreamSecrets) and over ADS; real sockets.
import { describe, expect, it } from 'vitest';
import { TypeUrl } from '@skein/api-types';
import { startProxy, startTestAdsServer, type RunningProxy } from '../src/index.js';
import { ADMIN, httpListener, staticCluster } from './helpers/upstreams.js';
import { adsBootstrap } from './helpers/xds-resources.js';
import { hasOpenssl, makePki } from './helpers/certs.js';
import { certSecret } from './helpers/sds-secrets.js';
import { withSdsCertificate } from './helpers/downstream-tls.js';
import { handshake } from './helpers/tls-handshake.js';
import { until } from './helpers/until.js';
import { cleanupAfterEach } from './helpers/cleanup.js';

const ID = 'spiffe://cluster.local/ns/default/sa/server';

const cleanup = cleanupAfterEach();

/** An HTTP listener on 127.0.0.1:0 terminating TLS with SDS secret `secret` from `sdsConfig`. */
function tlsListener(name: string, secretName: string, sdsConfig: Record<string, unknown>) {
  const routes = [{ match: { prefix: '/' }, direct_response: { status: 200 } }];
  const l = httpListener(
    name,
    { name, virtual_hosts: [{ name, domains: ['*'], routes }] },
    {},
    {
      stat_prefix: name,
    },
  );
  return withSdsCertificate(l, secretName, sdsConfig);
}

const sdsGrpc = (initialFetchTimeout: string) => ({
  api_config_source: {
    api_type: 'GRPC',
    transport_api_version: 'V3',
    grpc_services: [{ envoy_grpc: { cluster_name: 'sds-grpc' } }],
  },
  resource_api_version: 'V3',
  initial_fetch_timeout: initialFetchTimeout,
});

describe.skipIf(!hasOpenssl())('SDS initial_fetch_timeout (as Envoy)', () => {
  it('a static listener whose secret does not come in time serves without it; 0s keeps waiting', async () => {
    const pki = makePki();
    cleanup.push(() => pki.cleanup());
    const sds = await startTestAdsServer();
    cleanup.push(() => sds.close());
    const proxy: RunningProxy = await startProxy(
      {
        node: { id: 'sidecar~127.0.0.1~server.default~default.svc.cluster.local' },
        admin: ADMIN,
        static_resources: {
          listeners: [
            tlsListener('late', 'late-cert', sdsGrpc('0.2s')),
            tlsListener('patient', 'patient-cert', sdsGrpc('0s')),
          ],
          clusters: [
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
    cleanup.push(() => proxy.stop());
    await until(
      'the late secret’s wait to run out',
      () => proxy.stats.value('sds.late-cert.init_fetch_timeout') === 1,
      { timeoutMs: 10_000 },
    );
    // `late` no longer holds the start; `patient` (0s) still does.
    expect(proxy.listenerManager.warmingNames()).toEqual(['patient']);
    expect(proxy.isReady).toBe(false);
    expect(proxy.stats.value('sds.patient-cert.init_fetch_timeout')).toBe(0);

    const patient = pki.leaf(ID);
    sds.set(TypeUrl.Secret, [certSecret(patient, 'patient-cert')]);
    await proxy.waitReady();
    // `late` serves without its certificate: handshakes fail, counted as secrets not ready.
    const latePort = proxy.listenerAddress('late')!.port;
    expect((await handshake(latePort)).fingerprint).toBeUndefined();
    expect(proxy.stats.value('listener.late.ssl.secrets_not_ready')).toBeGreaterThanOrEqual(1);
    expect((await handshake(proxy.listenerAddress('patient')!.port)).fingerprint).toBeDefined();

    // The secret arrives later: the same listener serves it.
    sds.set(TypeUrl.Secret, [certSecret(patient, 'patient-cert'), certSecret(pki.leaf(ID), 'late-cert')]);
    await until('the late certificate', async () => (await handshake(latePort)).fingerprint !== undefined, {
      timeoutMs: 10_000,
    });
    expect(proxy.stats.value('sds.late-cert.init_fetch_timeout')).toBe(1);
  });

  it('over ADS: an LDS listener whose secret never comes stops holding the start', async () => {
    const ads = await startTestAdsServer();
    cleanup.push(() => ads.close());
    const adsSds = { ads: {}, resource_api_version: 'V3', initial_fetch_timeout: '0.2s' };
    ads.set(TypeUrl.Cluster, [], 'c1');
    ads.set(TypeUrl.Listener, [tlsListener('gw', 'kubernetes://missing', adsSds)], 'l1');
    const proxy = await startProxy(adsBootstrap(ads.port), { logLevel: 'off' });
    cleanup.push(() => proxy.stop());
    await proxy.waitReady();
    expect(proxy.stats.value('sds.kubernetes://missing.init_fetch_timeout')).toBe(1);
    expect(proxy.listenerManager.warmingNames()).toEqual([]);
    expect((await handshake(proxy.listenerAddress('gw')!.port)).fingerprint).toBeUndefined();
  });
});
