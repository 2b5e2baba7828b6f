// VirtualService `tls` routes on sidecars: SNI-matched chains on outbound TLS listeners.
import { describe, expect, it } from 'vitest';
import { generate, proxy, snapshotFromYaml } from '../../test/support/translate.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const YAML = `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: secure, namespace: default }
spec:
  hosts: [secure.example.com, mirror.example.com]
  location: MESH_EXTERNAL
  resolution: DNS
  ports: [{ number: 443, name: tls, protocol: TLS }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: secure, namespace: default }
spec:
  hosts: [secure.example.com]
  tls:
  - match: [{ port: 443, sniHosts: [secure.example.com] }]
    route:
    - { destination: { host: secure.example.com }, weight: 80 }
    - { destination: { host: mirror.example.com }, weight: 20 }
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: vault, namespace: default }
spec:
  hosts: [vault.default.svc.cluster.local]
  addresses: [10.96.5.5]
  resolution: STATIC
  ports: [{ number: 8200, name: tls-vault }]
  endpoints: [{ address: 10.5.0.1, labels: { zone: a } }, { address: 10.5.0.2, labels: { zone: b } }]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: vault, namespace: default }
spec:
  host: vault.default.svc.cluster.local
  subsets: [{ name: b, labels: { zone: b } }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: vault, namespace: default }
spec:
  hosts: [vault.default.svc.cluster.local]
  tls:
  - match: [{ sniHosts: [vault-b.example.internal] }]
    route: [{ destination: { host: vault.default.svc.cluster.local, subset: b } }]
`;

const chainBySni = (l: Json | undefined, sni: string): Json | undefined =>
  (l?.['filterChains'] as Json[] | undefined)?.find((c) =>
    (c['filterChainMatch']?.serverNames ?? []).includes(sni),
  );

describe('sidecar tls routes', () => {
  const out = generate(snapshotFromYaml(YAML), proxy({ ip: '10.0.0.9' }));
  const listener = (name: string) => out.listeners.find((l) => l['name'] === name) as Json | undefined;

  it('an address-less TLS service: the SNI chain forwards to the weighted tls route', () => {
    const chain = chainBySni(listener('0.0.0.0_443'), 'secure.example.com');
    expect(chain?.['filters'][0].typedConfig.weightedClusters.clusters).toEqual([
      { name: 'outbound|443||secure.example.com', weight: 80 },
      { name: 'outbound|443||mirror.example.com', weight: 20 },
    ]);
    // Hosts without tls routes keep their own chain.
    expect(
      chainBySni(listener('0.0.0.0_443'), 'mirror.example.com')?.['filters'][0].typedConfig.cluster,
    ).toBe('outbound|443||mirror.example.com');
  });

  it('a TLS service with a VIP: SNI chains behind the TLS inspector, the service cluster otherwise', () => {
    const l = listener('10.96.5.5_8200');
    expect(l?.['listenerFilters'][0].name).toBe('envoy.filters.listener.tls_inspector');
    expect(chainBySni(l, 'vault-b.example.internal')?.['filters'][0].typedConfig.cluster).toBe(
      'outbound|8200|b|vault.default.svc.cluster.local',
    );
    const fallback = (l?.['filterChains'] as Json[]).find((c) => !c['filterChainMatch']);
    expect(fallback?.['filters'][0].typedConfig.cluster).toBe(
      'outbound|8200||vault.default.svc.cluster.local',
    );
  });
});
