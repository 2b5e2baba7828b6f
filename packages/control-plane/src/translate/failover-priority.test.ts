// Locality failoverPriority: endpoints prioritised by how many of the listed labels (in order)
// they share with the proxy; topology keys read locality and network.
import { describe, expect, it } from 'vitest';
import { generate, proxy, snapshotFromYaml } from '../../test/support/translate.js';

const yaml = (priorities: string[]) => `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: api, namespace: default }
spec:
  hosts: [api.default.svc.cluster.local]
  addresses: [10.96.3.1]
  resolution: STATIC
  ports: [{ number: 80, name: http }]
  endpoints:
  - { address: 10.3.0.1, locality: us-east/a, labels: { tier: gold } }
  - { address: 10.3.0.2, locality: us-east/a, labels: { tier: silver } }
  - { address: 10.3.0.3, locality: us-east/b, labels: { tier: gold } }
  - { address: 10.3.0.4, locality: eu-west/a, labels: { tier: gold } }
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: api, namespace: default }
spec:
  host: api.default.svc.cluster.local
  trafficPolicy:
    outlierDetection: { consecutive5xxErrors: 3 }
    loadBalancer:
      localityLbSetting:
        failoverPriority: [${priorities.map((p) => JSON.stringify(p)).join(', ')}]
`;

type Group = {
  priority?: number;
  lbEndpoints: { endpoint: { address: { socketAddress: { address: string } } } }[];
};

/** Endpoint address → priority, for a proxy in us-east/a labelled tier=gold. */
function priorities(list: string[]): Record<string, number> {
  const gen = generate(
    snapshotFromYaml(yaml(list)),
    proxy({ ip: '10.3.9.9', labels: { tier: 'gold' }, locality: { region: 'us-east', zone: 'a' } }),
  );
  const cla = gen.endpoints.find(
    (e) => e['clusterName'] === 'outbound|80||api.default.svc.cluster.local',
  ) as {
    endpoints: Group[];
  };
  const out: Record<string, number> = {};
  for (const g of cla.endpoints)
    for (const e of g.lbEndpoints) out[e.endpoint.address.socketAddress.address] = g.priority ?? 0;
  return out;
}

describe('failoverPriority', () => {
  it('ranks by the leading labels matched: region, then zone, then a workload label', () => {
    expect(priorities(['topology.kubernetes.io/region', 'topology.kubernetes.io/zone', 'tier'])).toEqual({
      '10.3.0.1': 0, // region, zone and tier
      '10.3.0.2': 1, // region and zone
      '10.3.0.3': 2, // region only
      '10.3.0.4': 3, // nothing
    });
  });

  it('key=value compares endpoints with the value, not the proxy', () => {
    expect(priorities(['tier=silver'])).toEqual({
      '10.3.0.1': 1,
      '10.3.0.2': 0,
      '10.3.0.3': 1,
      '10.3.0.4': 1,
    });
  });

  it('priorities are compressed: no empty priority levels', () => {
    expect(priorities(['tier'])).toEqual({ '10.3.0.1': 0, '10.3.0.2': 1, '10.3.0.3': 0, '10.3.0.4': 0 });
  });
});
