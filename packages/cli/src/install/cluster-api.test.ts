import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { connectCluster } from './cluster-api.js';

const dir = mkdtempSync(join(tmpdir(), 'skein-cluster-api-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const kubeconfig = join(dir, 'config');
writeFileSync(
  kubeconfig,
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      { name: 'a', cluster: { server: 'https://127.0.0.1:6443/' } },
      { name: 'b', cluster: { server: 'https://127.0.0.2:6443' } },
    ],
    users: [{ name: 'u', user: { token: 't' } }],
    contexts: [
      { name: 'one', context: { cluster: 'a', user: 'u' } },
      { name: 'two', context: { cluster: 'b', user: 'u' } },
    ],
    'current-context': 'one',
  }),
);

describe('connectCluster (configuration only; no request is made)', () => {
  it("takes the kubeconfig's current context, or the one --context names", () => {
    expect(connectCluster({ kubeconfig })).toMatchObject({
      server: 'https://127.0.0.1:6443',
      context: 'one',
    });
    expect(connectCluster({ kubeconfig, context: 'two' })).toMatchObject({
      server: 'https://127.0.0.2:6443',
      context: 'two',
    });
  });

  it('says which kubeconfig or context is missing', () => {
    expect(() => connectCluster({ kubeconfig: join(dir, 'nope') })).toThrow(
      `kubeconfig ${join(dir, 'nope')} does not exist`,
    );
    expect(() => connectCluster({ kubeconfig, context: 'three' })).toThrow(
      'context three is not in the kubeconfig (it has: one, two)',
    );
  });

  it('refuses to fall back to http://localhost:8080 when there is no kubeconfig at all', () => {
    const saved = {
      KUBECONFIG: process.env['KUBECONFIG'],
      HOME: process.env['HOME'],
      HOST: process.env['KUBERNETES_SERVICE_HOST'],
    };
    process.env['KUBECONFIG'] = '';
    process.env['HOME'] = dir;
    delete process.env['KUBERNETES_SERVICE_HOST'];
    try {
      expect(() => connectCluster()).toThrow('no kubeconfig: pass --kubeconfig, or set $KUBECONFIG');
    } finally {
      for (const [k, v] of Object.entries({
        KUBECONFIG: saved.KUBECONFIG,
        HOME: saved.HOME,
        KUBERNETES_SERVICE_HOST: saved.HOST,
      }))
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
    }
  });
});
