// Istio's injection decision from namespace and pod labels; discoverySelectors.
import { describe, expect, it } from 'vitest';
import { objectsFromYaml } from '../../test/support/translate.js';
import { DEFAULT_MESH_CONFIG, meshConfigFrom } from './mesh-config.js';
import { discoveredNamespaces, injectionEnabled } from './namespaces.js';
import { buildSnapshot } from './snapshot.js';

describe('injectionEnabled', () => {
  it('any "disabled" wins, then any "enabled" injects', () => {
    expect(injectionEnabled({ 'istio-injection': 'enabled' }, {})).toBe(true);
    expect(injectionEnabled({ 'istio.io/rev': 'canary' }, {})).toBe(true);
    expect(injectionEnabled({}, { labels: { 'sidecar.istio.io/inject': 'true' } })).toBe(true);
    expect(injectionEnabled({}, {})).toBe(false);
    expect(injectionEnabled(undefined, {})).toBe(false);
    expect(
      injectionEnabled(
        { 'istio-injection': 'enabled' },
        { annotations: { 'sidecar.istio.io/inject': 'false' } },
      ),
    ).toBe(false);
    expect(
      injectionEnabled({ 'istio-injection': 'disabled' }, { labels: { 'sidecar.istio.io/inject': 'true' } }),
    ).toBe(false);
  });
});

describe('discoverySelectors', () => {
  const namespaces = new Map([
    ['shop', { env: 'prod', team: 'a' }],
    ['lab', { env: 'dev' }],
    ['plain', {}],
  ]);

  it('admits namespaces matching any selector (matchLabels and matchExpressions)', () => {
    expect([...(discoveredNamespaces([{ matchLabels: { env: 'prod' } }], namespaces) ?? [])]).toEqual([
      'shop',
    ]);
    expect([
      ...(discoveredNamespaces(
        [
          { matchExpressions: [{ key: 'env', operator: 'In', values: ['dev', 'prod'] }] },
          { matchLabels: {} },
        ],
        namespaces,
      ) ?? []),
    ]).toEqual(['shop', 'lab', 'plain']);
    expect([
      ...(discoveredNamespaces(
        [{ matchExpressions: [{ key: 'team', operator: 'DoesNotExist' }] }],
        namespaces,
      ) ?? []),
    ]).toEqual(['lab', 'plain']);
  });

  it('is read from the mesh config', () => {
    const r = meshConfigFrom({ discoverySelectors: [{ matchLabels: { env: 'prod' } }] });
    expect(r.ok && r.config.discoverySelectors).toEqual([{ matchLabels: { env: 'prod' } }]);
    expect(meshConfigFrom({ discoverySelectors: 'env=prod' }).ok).toBe(false);
  });

  it('admits everything without selectors or without known namespaces (directory mode)', () => {
    expect(discoveredNamespaces([], namespaces)).toBeUndefined();
    expect(discoveredNamespaces([{ matchLabels: { env: 'prod' } }], new Map())).toBeUndefined();
  });

  it('leaves other namespaces out of the snapshot', () => {
    const yaml = ['shop', 'lab']
      .map(
        (ns) => `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: svc, namespace: ${ns} }
spec:
  hosts: [svc.${ns}.svc.cluster.local]
  resolution: STATIC
  ports: [{ number: 80, name: http }]
`,
      )
      .join('---\n');
    const mesh = { ...DEFAULT_MESH_CONFIG, discoverySelectors: [{ matchLabels: { env: 'prod' } }] };
    const snap = buildSnapshot({ version: '1', mesh, objects: objectsFromYaml(yaml), namespaces });
    expect(snap.services.map((s) => s.hostname)).toEqual(['svc.shop.svc.cluster.local']);
  });
});
