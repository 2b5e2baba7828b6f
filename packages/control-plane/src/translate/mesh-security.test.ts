// The security issue's contributor (@skein/ca meshSecurity) plugged into the translator's seam:
// ISTIO_MUTUAL clusters get an upstream TLS context and the result still encodes as valid xDS.
import { meshSecurity } from '@skein/ca';
import { encodeJson, TypeUrl } from '@skein/api-types';
import { describe, expect, it } from 'vitest';
import { proxy, snapshotFromYaml } from '../../test/support/translate.js';
import { outboundClusters } from './clusters.js';
import { translateContext } from './context.js';
import { inboundListeners } from './listeners.js';

const yaml = `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: web, namespace: default }
spec:
  hosts: [web.default.svc.cluster.local]
  addresses: [10.96.4.1]
  resolution: STATIC
  ports: [{ number: 80, name: http }]
  endpoints: [{ address: 10.4.0.1, serviceAccount: web }]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: web, namespace: default }
spec:
  host: web.default.svc.cluster.local
  trafficPolicy: { tls: { mode: ISTIO_MUTUAL } }
`;

describe('the mesh security contributor through the seam', () => {
  it('adds an upstream TLS context for ISTIO_MUTUAL and keeps every resource encodable', () => {
    const ctx = translateContext(snapshotFromYaml(yaml), proxy({ ip: '10.4.0.1' }), meshSecurity());
    const cluster = outboundClusters(ctx).find(
      (c) => c.name === 'outbound|80||web.default.svc.cluster.local',
    );
    expect(JSON.stringify(cluster?.transportSocket)).toContain('UpstreamTlsContext');
    for (const c of outboundClusters(ctx)) encodeJson(TypeUrl.Cluster, c);
    for (const l of inboundListeners(ctx)) encodeJson(TypeUrl.Listener, l);
  });

  it("puts the virtual inbound listener's catch-all (ports no service names) under PeerAuthentication", () => {
    const mode = (m: string) => `---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: default, namespace: istio-system }
spec: { mtls: { mode: ${m} } }
`;
    const catchAll = (m: string) => {
      const ctx = translateContext(
        snapshotFromYaml(yaml + mode(m)),
        proxy({ ip: '10.4.0.1' }),
        meshSecurity(),
      );
      const vi = inboundListeners(ctx).find((l) => l.name === 'virtualInbound');
      return (vi?.filterChains ?? [])
        .filter((c) => c.filterChainMatch?.destinationPort === undefined)
        .map((c) => ({ name: c.name, tls: c.transportSocket !== undefined }));
    };
    // STRICT: only the mTLS chain, so plaintext to an unnamed port is refused (as Istio).
    expect(catchAll('STRICT')).toEqual([{ name: 'virtualInbound-mtls', tls: true }]);
    expect(catchAll('PERMISSIVE')).toEqual([
      { name: 'virtualInbound-mtls', tls: true },
      { name: 'virtualInbound', tls: false },
    ]);
    expect(catchAll('DISABLE')).toEqual([{ name: 'virtualInbound', tls: false }]);
  });
});
