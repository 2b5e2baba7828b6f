// Protocol sniffing: ports of unknown protocol get the HTTP inspector and both an HTTP chain
// (matched on the HTTP application protocols) and a TCP chain, outbound and inbound.
import { readFileSync } from 'node:fs';
import { meshSecurity } from '@skein/ca';
import { encodeJson, TypeUrl } from '@skein/api-types';
import { describe, expect, it } from 'vitest';
import { simulateHttp } from '../../test/support/simulate.js';
import { generate, proxy, snapshotFromYaml } from '../../test/support/translate.js';
import { DEFAULT_MESH_CONFIG } from '../model/mesh-config.js';
import { translateContext } from './context.js';
import { inboundListeners } from './listeners.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const yaml = readFileSync(new URL('../../testdata/sniffing.yaml', import.meta.url), 'utf8');
const LEGACY = 'legacy.default.svc.cluster.local';

/** The chain a connection takes, as the proxy picks it: ALPN match first, else the chain without one. */
function chainFor(listener: Json, facts: { port?: number; alpn: string[] }): Json | undefined {
  const chains = (listener['filterChains'] as Json[]).filter(
    (c) =>
      facts.port === undefined || [undefined, facts.port].includes(c['filterChainMatch']?.destinationPort),
  );
  const byAlpn = chains.find((c) =>
    (c['filterChainMatch']?.applicationProtocols ?? []).some((p: string) => facts.alpn.includes(p)),
  );
  return byAlpn ?? chains.find((c) => !c['filterChainMatch']?.applicationProtocols);
}

const filterOf = (chain: Json | undefined): Json => chain?.['filters']?.at(-1)?.typedConfig ?? {};

describe('protocol sniffing', () => {
  const snap = snapshotFromYaml(yaml);
  const client = generate(snap, proxy({ ip: '10.7.9.9', pod: 'client', labels: { app: 'client' } }));
  const listener = (name: string): Json => {
    const l = client.listeners.find((x) => x['name'] === name);
    if (!l) throw new Error(`no listener ${name}`);
    return l;
  };

  it('HTTP to the VIP of an unknown-protocol port is routed by the VirtualService', () => {
    const out = simulateHttp(client, {
      port: 8000,
      address: '10.96.7.1',
      authority: LEGACY,
      path: '/slow/1',
    });
    expect(out.route).toBe('slow-path');
    expect(out.clusters).toEqual({ [`outbound|8000||${LEGACY}`]: 1 });
    expect(out.action).toMatchObject({ timeout: '3s' });
    const l = listener('10.96.7.1_8000');
    expect(l['listenerFilters'].map((f: Json) => f['name'])).toEqual([
      'envoy.filters.listener.http_inspector',
    ]);
    expect(filterOf(chainFor(l, { alpn: ['http/1.1'] }))['rds']?.routeConfigName).toBe('8000');
    expect(filterOf(chainFor(l, { alpn: ['h2c'] }))['rds']?.routeConfigName).toBe('8000');
  });

  it('non-HTTP bytes on the same port take the TCP chain to the service', () => {
    expect(filterOf(chainFor(listener('10.96.7.1_8000'), { alpn: [] }))['cluster']).toBe(
      `outbound|8000||${LEGACY}`,
    );
    // No VIP: the wildcard listener's TCP chain goes to the port's only service.
    expect(filterOf(chainFor(listener('0.0.0.0_9000'), { alpn: [] }))['cluster']).toBe(
      'outbound|9000||ext.example.com',
    );
  });

  it('a known-HTTP service on the same port shares the route configuration and is not sniffed', () => {
    expect(simulateHttp(client, { port: 8000, authority: 'api.default.svc.cluster.local' }).clusters).toEqual(
      {
        'outbound|8000||api.default.svc.cluster.local': 1,
      },
    );
    expect(listener('0.0.0.0_8000')['listenerFilters']).toBeUndefined();
  });

  it('the upstream cluster of a sniffed port speaks the downstream protocol', () => {
    const c = client.clusters.find((x) => x['name'] === `outbound|8000||${LEGACY}`) as Json;
    expect(
      c['typedExtensionProtocolOptions']['envoy.extensions.upstreams.http.v3.HttpProtocolOptions'],
    ).toHaveProperty('useDownstreamProtocolConfig');
  });

  it('inbound: the workload port gets an HTTP chain and a TCP chain behind the HTTP inspector', () => {
    const server = generate(snap, proxy({ ip: '10.7.0.1', pod: 'legacy-1', labels: { app: 'legacy' } }));
    const vi = server.listeners.find((l) => l['name'] === 'virtualInbound') as Json;
    expect(vi['listenerFilters'].map((f: Json) => f['name'])).toContain(
      'envoy.filters.listener.http_inspector',
    );
    expect(filterOf(chainFor(vi, { port: 8080, alpn: ['http/1.1'] }))['routeConfig']?.name).toBe(
      'inbound|8080||',
    );
    expect(filterOf(chainFor(vi, { port: 8080, alpn: [] }))['cluster']).toBe('inbound|8080||');
  });

  it('with mesh mTLS (PERMISSIVE) the TLS chains are told apart by Istio ALPN and all encode', () => {
    const ctx = translateContext(snap, proxy({ ip: '10.7.0.1', labels: { app: 'legacy' } }), meshSecurity());
    const vi = inboundListeners(ctx).find((l) => l.name === 'virtualInbound') as Json;
    encodeJson(TypeUrl.Listener, vi);
    const port = (vi['filterChains'] as Json[]).filter(
      (c) => c['filterChainMatch']?.destinationPort === 8080,
    );
    const matches = port.map((c) => JSON.stringify(c['filterChainMatch']));
    expect(new Set(matches).size).toBe(matches.length); // no two chains with the same match
    const tlsHttp = port.find(
      (c) =>
        c['filterChainMatch']?.transportProtocol === 'tls' &&
        c['filters'].at(-1).name.includes('http_connection'),
    );
    expect(tlsHttp?.['filterChainMatch']?.applicationProtocols).toEqual([
      'istio-http/1.0',
      'istio-http/1.1',
      'istio-h2',
    ]);
    expect(vi['listenerFilters'].map((f: Json) => f['name'])).toContain(
      'envoy.filters.listener.tls_inspector',
    );
  });

  it('protocolDetectionTimeout from the mesh config bounds the wait for the first bytes', () => {
    const s = snapshotFromYaml(yaml, { ...DEFAULT_MESH_CONFIG, protocolDetectionTimeout: '100ms' });
    const l = generate(s, proxy({ ip: '10.7.9.9' })).listeners.find((x) => x['name'] === '10.96.7.1_8000');
    expect(l).toMatchObject({ listenerFiltersTimeout: '0.1s', continueOnListenerFiltersTimeout: true });
  });
});
