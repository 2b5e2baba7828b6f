import { describe, expect, it } from 'vitest';
import { generate, proxy, snapshotFromYaml } from '../../test/support/translate.js';

const mesh = (lb: string, outlier = true) => `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: api, namespace: default }
spec:
  hosts: [api.default.svc.cluster.local]
  addresses: [10.96.3.1]
  resolution: STATIC
  ports: [{ number: 80, name: http }]
  endpoints:
  - { address: 10.3.0.1, locality: us-east/a }
  - { address: 10.3.0.2, locality: us-east/b }
  - { address: 10.3.0.3, locality: eu-west/a }
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: api, namespace: default }
spec:
  host: api.default.svc.cluster.local
  trafficPolicy:
${outlier ? '    outlierDetection: { consecutive5xxErrors: 3 }\n' : ''}    loadBalancer:
      localityLbSetting:
${lb}
`;

const CLUSTER = 'outbound|80||api.default.svc.cluster.local';
type Group = { locality: { region?: string; zone?: string }; priority?: number; loadBalancingWeight: number };
const groups = (lb: string, outlier = true) => {
  const gen = generate(
    snapshotFromYaml(mesh(lb, outlier)),
    proxy({ ip: '10.3.9.9', locality: { region: 'us-east', zone: 'a' } }),
  );
  const cla = gen.endpoints.find((e) => e['clusterName'] === CLUSTER) as { endpoints: Group[] };
  const cluster = gen.clusters.find((c) => c['name'] === CLUSTER);
  return {
    groups: cla.endpoints.map((g) => ({
      at: `${g.locality.region}/${g.locality.zone}`,
      priority: g.priority ?? 0,
      weight: g.loadBalancingWeight,
    })),
    cluster,
  };
};

describe('locality load balancing', () => {
  it('orders endpoints into priorities by proximity, with failover regions before the rest', () => {
    const { groups: g } = groups('        failover: [{ from: us-east, to: eu-west }]');
    expect(g).toEqual([
      { at: 'eu-west/a', priority: 2, weight: 1 },
      { at: 'us-east/a', priority: 0, weight: 1 },
      { at: 'us-east/b', priority: 1, weight: 1 },
    ]);
  });

  it('distributes by weight within priority 0 and enables locality-weighted LB on the cluster', () => {
    const { groups: g, cluster } = groups(`        distribute:
        - from: us-east/a/*
          to: { "us-east/a/*": 80, "us-east/b/*": 20 }`);
    expect(g).toEqual([
      { at: 'us-east/a', priority: 0, weight: 800 },
      { at: 'us-east/b', priority: 0, weight: 200 },
    ]);
    expect(cluster).toMatchObject({ commonLbConfig: { localityWeightedLbConfig: {} } });
  });

  it('does nothing without outlier detection (as in Istio)', () => {
    const { groups: g } = groups('        failover: [{ from: us-east, to: eu-west }]', false);
    expect(g.every((x) => x.priority === 0)).toBe(true);
  });
});
