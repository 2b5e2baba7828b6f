// Golden translation tests: testdata/<case>.yaml → <case>.<type>.golden.yaml per xDS type, in
// stable order. Regenerate with UPDATE_GOLDEN=1 after reviewing the change.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { meshSecurity } from '@skein/ca';
import { generate, proxy, snapshotFromYaml, type ProxySpec } from '../../test/support/translate.js';

const cases: { name: string; proxy: ProxySpec; listeners?: string[]; meshSecurity?: true }[] = [
  {
    name: 'bookinfo',
    proxy: { ip: '10.0.0.11', pod: 'reviews-v1', labels: { app: 'reviews', version: 'v1' } },
  },
  {
    name: 'no-capture',
    proxy: {
      ip: '127.0.0.11',
      pod: 'reviews-v1',
      namespace: 'demo',
      labels: { app: 'reviews', version: 'v1' },
      interceptionMode: 'NONE',
    },
  },
  {
    name: 'proxyless-grpc',
    proxy: { ip: '10.0.2.1', pod: 'client', generator: 'grpc' },
    listeners: ['echo.default.svc.cluster.local:7070'],
  },
  {
    name: 'gateway',
    proxy: {
      ip: '10.2.9.9',
      pod: 'ingressgateway',
      namespace: 'istio-system',
      labels: { istio: 'ingressgateway' },
      type: 'router',
    },
  },
  {
    name: 'sniffing',
    proxy: { ip: '10.7.0.1', pod: 'legacy-1', labels: { app: 'legacy' } },
  },
  {
    name: 'metrics',
    proxy: { ip: '10.8.0.1', pod: 'books-1', namespace: 'shop', labels: { app: 'books' } },
  },
  {
    name: 'gateway-modes',
    proxy: {
      ip: '10.3.9.9',
      pod: 'eastwestgateway',
      namespace: 'istio-system',
      labels: { istio: 'eastwestgateway' },
      type: 'router',
    },
  },
  {
    // Mesh mTLS (the security contributor): Istio's ALPN per port protocol, sniffed ports over mTLS.
    name: 'mesh-mtls',
    // TPROXY interception: the capture listeners are transparent.
    proxy: { ip: '10.9.0.1', pod: 'legacy-1', labels: { app: 'legacy' }, interceptionMode: 'TPROXY' },
    meshSecurity: true,
  },
  {
    name: 'policies',
    proxy: { ip: '10.1.9.9', pod: 'frontend', namespace: 'shop', labels: { app: 'frontend' } },
  },
];

const dir = new URL('../../testdata/', import.meta.url);
const update = process.env['UPDATE_GOLDEN'] === '1';

describe('golden translation', () => {
  for (const c of cases)
    it(c.name, () => {
      const snap = snapshotFromYaml(readFileSync(new URL(`${c.name}.yaml`, dir), 'utf8'));
      const out = generate(
        snap,
        proxy(c.proxy),
        c.listeners ?? [],
        c.meshSecurity ? meshSecurity() : undefined,
      );
      for (const [type, resources] of Object.entries({
        lds: out.listeners,
        rds: out.routes,
        cds: out.clusters,
        eds: out.endpoints,
      })) {
        const file = new URL(`${c.name}.${type}.golden.yaml`, dir);
        const text = stringify(resources, { lineWidth: 0, aliasDuplicateObjects: false });
        if (update) writeFileSync(file, text);
        expect(existsSync(file), `${c.name}.${type}.golden.yaml missing; run with UPDATE_GOLDEN=1`).toBe(
          true,
        );
        expect(text, `${c.name}.${type}.golden.yaml differs; rerun with UPDATE_GOLDEN=1 after review`).toBe(
          readFileSync(file, 'utf8'),
        );
      }
    });
});
