// PeerAuthentication resolution table: mesh, namespace, workload and port levels; UNSET inherits.
import type { PeerAuthentication } from '@skein/api-types';
import { describe, expect, it } from 'vitest';
import { modeForPort, resolveInboundMtls } from './mtls-mode.js';

function pa(
  ns: string,
  name: string,
  spec: PeerAuthentication['spec'],
  created = '2026-01-01T00:00:00Z',
): PeerAuthentication {
  return {
    apiVersion: 'security.istio.io/v1',
    kind: 'PeerAuthentication',
    metadata: { name, namespace: ns, creationTimestamp: created },
    spec,
  };
}

const web = { namespace: 'shop', labels: { app: 'web' } };

describe('resolveInboundMtls', () => {
  const cases: [string, PeerAuthentication[], string, Record<number, string>][] = [
    ['nothing: PERMISSIVE', [], 'PERMISSIVE', {}],
    ['mesh STRICT', [pa('istio-system', 'default', { mtls: { mode: 'STRICT' } })], 'STRICT', {}],
    [
      'namespace overrides mesh',
      [
        pa('istio-system', 'default', { mtls: { mode: 'STRICT' } }),
        pa('shop', 'ns', { mtls: { mode: 'DISABLE' } }),
      ],
      'DISABLE',
      {},
    ],
    [
      'workload overrides namespace; UNSET inherits',
      [
        pa('shop', 'ns', { mtls: { mode: 'STRICT' } }),
        pa('shop', 'w', {
          selector: { matchLabels: { app: 'web' } },
          mtls: { mode: 'UNSET' },
          portLevelMtls: { '8080': { mode: 'DISABLE' } },
        }),
      ],
      'STRICT',
      { 8080: 'DISABLE' },
    ],
    [
      'other namespaces and non-matching selectors do not apply',
      [
        pa('other', 'ns', { mtls: { mode: 'STRICT' } }),
        pa('shop', 'w', { selector: { matchLabels: { app: 'db' } }, mtls: { mode: 'STRICT' } }),
      ],
      'PERMISSIVE',
      {},
    ],
    [
      'oldest of two workload policies wins',
      [
        pa(
          'shop',
          'b',
          { selector: { matchLabels: { app: 'web' } }, mtls: { mode: 'DISABLE' } },
          '2026-02-01T00:00:00Z',
        ),
        pa(
          'shop',
          'a',
          { selector: { matchLabels: { app: 'web' } }, mtls: { mode: 'STRICT' } },
          '2026-01-01T00:00:00Z',
        ),
      ],
      'STRICT',
      {},
    ],
  ];
  for (const [name, policies, mode, ports] of cases) {
    it(name, () => {
      const r = resolveInboundMtls(policies, web);
      expect(r.mode).toBe(mode);
      expect(r.ports).toEqual(ports);
    });
  }

  it('uses the configured root namespace for mesh-wide policy', () => {
    const r = resolveInboundMtls(
      [pa('skein-system', 'default', { mtls: { mode: 'STRICT' } })],
      web,
      'skein-system',
    );
    expect(modeForPort(r, 9000)).toBe('STRICT');
  });
});
