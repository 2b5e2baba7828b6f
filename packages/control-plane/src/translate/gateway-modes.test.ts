// Gateway server modes beyond SIMPLE/MUTUAL/PASSTHROUGH: AUTO_PASSTHROUGH (Istio's mesh SNI picks
// the cluster), ISTIO_MUTUAL (mesh mTLS termination) and a per-server bind address.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { clusterEndpoints, simulateHttp } from '../../test/support/simulate.js';
import { generate, proxy, snapshotFromYaml } from '../../test/support/translate.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const yaml = readFileSync(new URL('../../testdata/gateway-modes.yaml', import.meta.url), 'utf8');
const REVIEWS = 'reviews.bookinfo.svc.cluster.local';

describe('gateway server modes', () => {
  const gw = generate(
    snapshotFromYaml(yaml),
    proxy({
      ip: '10.3.9.9',
      pod: 'eastwestgateway',
      namespace: 'istio-system',
      labels: { istio: 'eastwestgateway' },
      type: 'router',
    }),
  );
  const listener = (name: string): Json => {
    const l = gw.listeners.find((x) => x['name'] === name);
    if (!l) throw new Error(`no listener ${name}`);
    return l;
  };
  /** The cluster a TLS connection with this SNI is forwarded to. */
  const bySni = (l: Json, sni: string): string | undefined => {
    const chain = (l['filterChains'] as Json[]).find((c) =>
      (c['filterChainMatch']?.serverNames ?? []).includes(sni),
    );
    return chain?.['filters']?.at(-1)?.typedConfig?.cluster;
  };

  it('AUTO_PASSTHROUGH routes by outbound_.<port>_.<subset>_.<host> to that cluster', () => {
    const l = listener('0.0.0.0_15443');
    expect(l['listenerFilters'].map((f: Json) => f['name'])).toEqual([
      'envoy.filters.listener.tls_inspector',
    ]);
    expect(bySni(l, `outbound_.9080_.v2_.${REVIEWS}`)).toBe(`outbound|9080|v2|${REVIEWS}`);
    expect(bySni(l, `outbound_.9080_._.${REVIEWS}`)).toBe(`outbound|9080||${REVIEWS}`);
    expect(clusterEndpoints(gw, `outbound|9080|v2|${REVIEWS}`)).toEqual(['10.3.0.2:9080']);
    // Hosts outside the server's `*.local` are not exposed.
    expect(bySni(l, 'outbound_.443_._.api.example.com')).toBeUndefined();
    // The client's TLS is not terminated.
    expect((l['filterChains'] as Json[]).every((c) => !c['transportSocket'])).toBe(true);
  });

  it('ISTIO_MUTUAL terminates mesh mTLS with the workload certificate and requires a client one', () => {
    const chain = (listener('0.0.0.0_8443')['filterChains'] as Json[])[0];
    const tls = chain?.['transportSocket']?.typedConfig as Json;
    expect(tls['requireClientCertificate']).toBe(true);
    expect(tls['commonTlsContext'].tlsCertificateSdsSecretConfigs[0].name).toBe('default');
    expect(tls['commonTlsContext'].combinedValidationContext.validationContextSdsSecretConfig.name).toBe(
      'ROOTCA',
    );
    expect(
      tls['commonTlsContext'].tlsCertificateSdsSecretConfigs[0].sdsConfig.apiConfigSource.grpcServices[0]
        .envoyGrpc.clusterName,
    ).toBe('sds-grpc');
    expect(chain?.['filterChainMatch']?.serverNames).toEqual([REVIEWS]);
  });

  it('a server with bind gets a listener on that address, routed by the bound VirtualService', () => {
    expect(listener('10.3.9.9_8080')['address'].socketAddress).toEqual({
      address: '10.3.9.9',
      portValue: 8080,
    });
    expect(gw.listeners.some((l) => l['name'] === '0.0.0.0_8080')).toBe(false);
    const out = simulateHttp(gw, { port: 8080, address: '10.3.9.9', authority: REVIEWS });
    expect(out.clusters).toEqual({ [`outbound|9080|v2|${REVIEWS}`]: 1 });
  });
});
