import { describe, expect, it } from 'vitest';
import { objectsFromYaml, proxy } from '../../test/support/translate.js';
import { DEFAULT_MESH_CONFIG } from '../model/mesh-config.js';
import { buildSnapshot, type Snapshot } from '../model/snapshot.js';
import { translateContext } from './context.js';
import { labelSelectors, proxyClassKey, sameClassInputs } from './proxy-class.js';

const vs = (name: string, weight: number, sourceLabels?: string): string => `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ${name}, namespace: default }
spec:
  hosts: [${name}.default.svc.cluster.local]
  http:
  - ${sourceLabels ? `match: [{ sourceLabels: { app: ${sourceLabels} } }]\n    ` : ''}route:
    - { destination: { host: ${name}.default.svc.cluster.local, subset: v1 }, weight: ${weight} }
    - { destination: { host: ${name}.default.svc.cluster.local, subset: v2 }, weight: ${100 - weight} }
`;

let n = 0;
const snap = (yaml: string, previous?: Snapshot): Snapshot =>
  buildSnapshot(
    { version: String(++n), mesh: DEFAULT_MESH_CONFIG, objects: objectsFromYaml(yaml) },
    previous,
  );

describe('proxy class reuse across snapshots', () => {
  const p = proxy({ ip: '10.0.0.1', labels: { app: 'web' } });

  it('keeps the class (and the selector list) when only a weight changed', () => {
    const a = snap(vs('a', 90, 'web') + '---' + vs('b', 50));
    const b = snap(vs('a', 80, 'web') + '---' + vs('b', 50), a);
    expect(labelSelectors(b)).toBe(labelSelectors(a));
    const ca = translateContext(a, p);
    const cb = translateContext(b, p);
    expect(sameClassInputs(ca, cb)).toBe(true);
    expect(proxyClassKey(cb)).toBe(proxyClassKey(ca));
  });

  it('is invalidated when a label selector is added, and the class then differs', () => {
    const a = snap(vs('a', 90) + '---' + vs('b', 50));
    const b = snap(vs('a', 90, 'web') + '---' + vs('b', 50), a);
    const ca = translateContext(a, p);
    const cb = translateContext(b, p);
    expect(sameClassInputs(ca, cb)).toBe(false);
    expect(proxyClassKey(cb)).not.toBe(proxyClassKey(ca));
  });

  it('is invalidated when the Sidecar that applies changes', () => {
    const a = snap(vs('a', 90));
    const b = snap(
      vs('a', 90) +
        '---\napiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata: { name: default, namespace: default }\nspec:\n  egress: [{ hosts: ["./*"] }]\n',
      a,
    );
    expect(sameClassInputs(translateContext(a, p), translateContext(b, p))).toBe(false);
  });

  it('is not assumed for proxies whose credential access depends on the snapshot', () => {
    const a = snap(vs('a', 90));
    const b = snap(vs('a', 80), a);
    const reviewed = { ...p, credentialAccess: 'review' as const };
    expect(sameClassInputs(translateContext(a, reviewed), translateContext(b, reviewed))).toBe(false);
  });
});
