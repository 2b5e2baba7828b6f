import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultKubeconfigPath, kubeconfigConnection, resolveKubeConnection } from './kube-client.js';

const dir = mkdtempSync(join(tmpdir(), 'skein-kubeconfig-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const kubeconfig = (user: string): string => {
  const path = join(dir, `kc-${Math.random().toString(36).slice(2)}`);
  writeFileSync(
    path,
    [
      'apiVersion: v1',
      'kind: Config',
      'current-context: t',
      'contexts: [{ name: t, context: { cluster: c, user: u } }]',
      `clusters: [{ name: c, cluster: { server: "https://127.0.0.1:6443", certificate-authority-data: "${Buffer.from('CA').toString('base64')}" } }]`,
      `users: [{ name: u, user: ${user} }]`,
      '',
    ].join('\n'),
  );
  return path;
};

describe('kubeconfig connections', () => {
  it('reads token users and client-certificate users (as kind writes them)', () => {
    expect(kubeconfigConnection(kubeconfig('{ token: abc }'))).toEqual({
      server: 'https://127.0.0.1:6443',
      token: 'abc',
      caPem: 'CA',
    });
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    expect(
      kubeconfigConnection(
        kubeconfig(`{ client-certificate-data: "${b64('CERT')}", client-key-data: "${b64('KEY')}" }`),
      ),
    ).toEqual({ server: 'https://127.0.0.1:6443', clientCertPem: 'CERT', clientKeyPem: 'KEY', caPem: 'CA' });
  });

  it('refuses users it cannot authenticate as, saying why', () => {
    expect(() => kubeconfigConnection(kubeconfig('{ auth-provider: { name: oidc } }'))).toThrow(
      /neither a token, a client certificate nor an exec plugin/,
    );
  });

  it('resolves `default` through KUBECONFIG, and a path as itself', () => {
    const path = kubeconfig('{ token: t1 }');
    expect(defaultKubeconfigPath({ KUBECONFIG: `${path}:/other` })).toBe(path);
    expect(resolveKubeConnection('default', { KUBECONFIG: path }).token).toBe('t1');
    expect(resolveKubeConnection(path, {}).token).toBe('t1');
  });
});
