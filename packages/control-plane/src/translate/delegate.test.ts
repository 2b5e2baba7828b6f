// Delegate VirtualServices: the child's http routes merged under the root route's match.
import { describe, expect, it } from 'vitest';
import { simulateHttp } from '../../test/support/simulate.js';
import { generate, objectsFromYaml, proxy, snapshotFromYaml } from '../../test/support/translate.js';
import { configKey } from '../ingest/config-store.js';
import { pushRequestFor } from '../serve/change-impact.js';

const svc = (name: string, ns: string, ip: string) => `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: ${name}, namespace: ${ns} }
spec:
  hosts: [${name}.${ns}.svc.cluster.local]
  addresses: [${ip}]
  resolution: STATIC
  ports: [{ number: 80, name: http }]
  endpoints: [{ address: ${ip.replace('96', '1')} }]
`;

const YAML = [
  svc('shop', 'front', '10.96.0.1'),
  svc('reviews', 'team-a', '10.96.0.2'),
  svc('ratings', 'team-a', '10.96.0.3'),
  `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: shop, namespace: front }
spec:
  hosts: [shop.front.svc.cluster.local]
  http:
  - name: team-a
    match: [{ uri: { prefix: /api/ }, headers: { x-tenant: { exact: acme } } }]
    delegate: { name: team-a-routes, namespace: team-a }
  - name: rest
    route: [{ destination: { host: shop } }]
`,
  `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: team-a-routes, namespace: team-a }
spec:
  http:
  - name: reviews
    match: [{ uri: { prefix: /api/reviews } }]
    timeout: 2s
    route: [{ destination: { host: reviews } }]
  - name: outside
    match: [{ uri: { prefix: /admin } }]
    route: [{ destination: { host: ratings } }]
  - name: ratings
    route: [{ destination: { host: ratings } }]
`,
].join('---\n');

describe('delegate VirtualServices', () => {
  const out = generate(snapshotFromYaml(YAML), proxy({ ip: '10.0.0.9', namespace: 'front' }));
  const req = (path: string, headers: Record<string, string> = { 'x-tenant': 'acme' }) =>
    simulateHttp(out, { port: 80, authority: 'shop.front.svc.cluster.local', path, headers });

  it("a child route applies under the root's match, with its own action and namespace", () => {
    const r = req('/api/reviews/1');
    expect(r.route).toBe('reviews');
    expect(r.clusters).toEqual({ 'outbound|80||reviews.team-a.svc.cluster.local': 1 });
    expect(r.action).toMatchObject({ timeout: '2s' });
  });

  it("a child route without a match takes the root's match", () => {
    expect(req('/api/other').clusters).toEqual({ 'outbound|80||ratings.team-a.svc.cluster.local': 1 });
  });

  it("the root's conditions still hold, and a child match outside the root's prefix is dropped", () => {
    expect(req('/api/reviews/1', {}).route).toBe('rest');
    expect(req('/admin').route).toBe('rest');
  });

  it('an edit of the delegate pushes to proxies of the root VirtualService hosts', () => {
    const snap = snapshotFromYaml(YAML);
    const child = objectsFromYaml(YAML).find((o) => o.metadata.name === 'team-a-routes');
    if (!child) throw new Error('no delegate');
    const req = pushRequestFor(
      { changed: [configKey(child)], before: new Map([[configKey(child), child]]) },
      () => child,
      [snap],
      0,
    );
    expect([...req.hosts]).toEqual(['shop.front.svc.cluster.local']);
  });
});
