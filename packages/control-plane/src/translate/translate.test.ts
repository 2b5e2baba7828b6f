import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generate, proxy, snapshotFromYaml } from '../../test/support/translate.js';

const bookinfo = readFileSync(new URL('../../testdata/bookinfo.yaml', import.meta.url), 'utf8');

describe('sidecar translation', () => {
  it('produces resources that encode as valid Envoy protos', () => {
    const snap = snapshotFromYaml(bookinfo);
    const out = generate(snap, proxy({ ip: '10.0.0.11', labels: { app: 'reviews', version: 'v1' } }));
    const names = (l: Record<string, unknown>[]) => l.map((x) => x['name'] ?? x['clusterName']);
    expect(names(out.listeners)).toEqual([
      '0.0.0.0_9080',
      '10.96.0.12_3306',
      'virtualInbound',
      'virtualOutbound',
    ]);
    expect(names(out.routes)).toEqual(['9080']);
    expect(names(out.clusters)).toContain('outbound|9080|v2|reviews.default.svc.cluster.local');
    expect(names(out.clusters)).toContain('inbound|9080||');
    expect(names(out.endpoints)).toContain('outbound|9080|v1|reviews.default.svc.cluster.local');
  });
});
