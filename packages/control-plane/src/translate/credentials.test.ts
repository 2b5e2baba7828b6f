// credentialName secrets: Istio's key names and names (`kubernetes://<name>`, `-cacert`), only the
// proxy's own namespace, encoded as Envoy Secrets; a Secret without a usable credential is refused
// with the key and the reason.
import { encodeJson, TypeUrl } from '@skein/api-types';
import { describe, expect, it } from 'vitest';
import { proxy, snapshotFromYaml } from '../../test/support/translate.js';
import { meshValidator } from '../ingest/validation.js';
import { secretAccessObject, type CredentialAccess } from '../model/secret-access.js';
import { buildSnapshot } from '../model/snapshot.js';
import { translateContext } from './context.js';
import { credentialSecrets } from './credentials.js';
import { proxyClassKey } from './proxy-class.js';

const PEM = (what: string, body: string) => `-----BEGIN ${what}-----\n${body}\n-----END ${what}-----\n`;
const CERT = PEM('CERTIFICATE', 'Y2VydA==');
const KEY = PEM('PRIVATE KEY', 'a2V5');
const CA = PEM('CERTIFICATE', 'Y2E=');
const b64 = (s: string) => Buffer.from(s).toString('base64');

const yaml = `apiVersion: v1
kind: Secret
metadata: { name: web, namespace: gw }
type: kubernetes.io/tls
data: { tls.crt: ${b64(CERT)}, tls.key: ${b64(KEY)} }
---
apiVersion: v1
kind: Secret
metadata: { name: web-cacert, namespace: gw }
data: { cacert: ${b64(CA)} }
---
apiVersion: v1
kind: Secret
metadata: { name: generic, namespace: gw }
stringData: { cert: ${JSON.stringify(CERT)}, key: ${JSON.stringify(KEY)}, cacert: ${JSON.stringify(CA)} }
---
apiVersion: v1
kind: Secret
metadata: { name: theirs, namespace: other }
data: { tls.crt: ${b64(CERT)}, tls.key: ${b64(KEY)} }
`;

describe('credentialName secrets', () => {
  const snap = snapshotFromYaml(yaml);
  const at = (namespace: string) =>
    translateContext(snap, proxy({ ip: '10.0.0.5', namespace, type: 'router' }));

  it("serves the proxy namespace's key pairs and CAs under Istio's names, as valid Envoy Secrets", () => {
    const out = credentialSecrets(at('gw'), [
      'kubernetes://web',
      'kubernetes://web-cacert',
      'kubernetes://generic',
      'kubernetes://generic-cacert',
    ]);
    for (const s of out) encodeJson(TypeUrl.Secret, s);
    expect(out.map((s) => s.name)).toEqual([
      'kubernetes://generic',
      'kubernetes://generic-cacert',
      'kubernetes://web',
      'kubernetes://web-cacert',
    ]);
    const byName = new Map(out.map((s) => [s.name, s]));
    expect(byName.get('kubernetes://web')?.tlsCertificate?.privateKey?.inlineBytes).toBe(b64(KEY));
    // `-cacert` from a Secret of that name, or from the key pair's own ca key.
    expect(byName.get('kubernetes://web-cacert')?.validationContext?.trustedCa?.inlineBytes).toBe(b64(CA));
    expect(byName.get('kubernetes://generic-cacert')?.validationContext?.trustedCa?.inlineBytes).toBe(
      b64(CA),
    );
  });

  it("never serves another namespace's Secret, nor names outside kubernetes://", () => {
    expect(
      credentialSecrets(at('gw'), ['kubernetes://theirs', 'kubernetes://other/theirs', 'theirs']),
    ).toEqual([]);
    expect(credentialSecrets(at('other'), ['kubernetes://theirs']).map((s) => s.name)).toEqual([
      'kubernetes://theirs',
    ]);
    expect(credentialSecrets(at('other'), ['kubernetes://web'])).toEqual([]);
  });

  it('with RBAC review (Kubernetes mode): only for a verified proxy whose service account was allowed', () => {
    const reviewed = (allowed: boolean | undefined) =>
      buildSnapshot({
        version: '2',
        mesh: snap.mesh,
        objects: [
          ...[...snap.byKind.values()].flat(),
          ...(allowed === undefined
            ? []
            : [secretAccessObject('gw', 'gateway', { allowed, reason: 'RBAC' })]),
        ],
      });
    const ctx = (s: ReturnType<typeof reviewed>, credentialAccess: CredentialAccess) =>
      translateContext(s, {
        ...proxy({
          ip: '10.0.0.5',
          namespace: 'gw',
          type: 'router',
          metadata: { SERVICE_ACCOUNT: 'gateway' },
        }),
        credentialAccess,
      });
    const names = (s: ReturnType<typeof reviewed>, a: CredentialAccess) =>
      credentialSecrets(ctx(s, a), ['kubernetes://web']).map((x) => x.name);
    expect(names(reviewed(true), 'review')).toEqual(['kubernetes://web']);
    expect(names(reviewed(false), 'review')).toEqual([]);
    expect(names(reviewed(undefined), 'review')).toEqual([]); // not reviewed yet
    expect(names(reviewed(true), 'unverified')).toEqual([]); // the plaintext port: no identity
    expect(names(reviewed(undefined), 'open')).toEqual(['kubernetes://web']); // no Kubernetes
    // Proxies sharing generated output must agree on it.
    expect(proxyClassKey(ctx(reviewed(true), 'review'))).not.toBe(
      proxyClassKey(ctx(reviewed(true), 'unverified')),
    );
  });

  it('refuses a Secret without a usable credential, naming the key', () => {
    const v = meshValidator({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'broken', namespace: 'gw' },
      data: { 'tls.crt': b64(CERT), 'tls.key': b64('not a key') },
    });
    expect(v.ok).toBe(false);
    if (!v.ok)
      expect(v.problems).toEqual([
        {
          object: 'Secret gw/broken',
          path: 'data.tls.key',
          reason: 'want a PEM private key',
          severity: 'error',
        },
      ]);
  });
});
