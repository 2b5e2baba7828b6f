// Kubernetes mode of the CA: TokenReview authentication, the root kept in a Secret in the CA's
// namespace (created only if absent, so replicas agree), plug-in material from the `cacerts`
// Secret, and the root published to every namespace as ConfigMap istio-ca-root-cert.
import type { TokenReviewer, TokenReviewResult } from '../authn/token-review.js';
import {
  createRootCa,
  pluginCa,
  verifyMaterial,
  type CaMaterial,
  type RootOptions,
} from '../pki/ca-material.js';
import { normalizePem, splitPem } from '../pki/pem.js';
import type { KubeApi } from './kube-client.js';

export const SELF_SIGNED_SECRET = 'istio-ca-secret';
export const PLUGIN_SECRET = 'cacerts';
export const ROOT_CONFIGMAP = 'istio-ca-root-cert';

export function kubeTokenReviewer(kube: KubeApi): TokenReviewer {
  return {
    async review(token, audiences) {
      const r = await kube.call<{
        status?: {
          authenticated?: boolean;
          user?: { username?: string };
          audiences?: string[];
          error?: string;
        };
      }>('POST', '/apis/authentication.k8s.io/v1/tokenreviews', {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenReview',
        spec: { token, audiences },
      });
      if (r.status !== 201 && r.status !== 200) throw new Error(`TokenReview failed: HTTP ${r.status}`);
      const s = r.body.status ?? {};
      const out: TokenReviewResult = { authenticated: s.authenticated === true };
      if (s.user?.username) out.username = s.user.username;
      if (s.audiences) out.audiences = s.audiences;
      if (s.error) out.error = s.error;
      return out;
    },
  };
}

export type SecretBody = {
  metadata?: { resourceVersion?: string; [k: string]: unknown };
  data?: Record<string, string>;
  [k: string]: unknown;
};
export const dec = (d: Record<string, string> | undefined, k: string) =>
  d?.[k] ? Buffer.from(d[k], 'base64').toString() : undefined;
export const enc = (s: string) => Buffer.from(s).toString('base64');

/**
 * The material of Secret istio-ca-secret: `ca-cert.pem` (the self-signed root that signs) and
 * `ca-key.pem`; `root-cert.pem` may also hold the root it renewed (the overlap after a rotation),
 * trusted besides the signing one.
 */
export function selfSignedMaterial(data: Record<string, string> | undefined, name: string): CaMaterial {
  const caCertPem = dec(data, 'ca-cert.pem');
  const caKeyPem = dec(data, 'ca-key.pem');
  if (!caCertPem || !caKeyPem) throw new Error(`secret ${name} lacks ca-cert.pem or ca-key.pem`);
  const signing = normalizePem(caCertPem);
  const others = splitPem(dec(data, 'root-cert.pem') ?? '').filter(
    (r) => r.replace(/\s+/g, '') !== signing.replace(/\s+/g, ''),
  );
  const m: CaMaterial = {
    caCertPem: signing,
    caKeyPem,
    chainPems: [],
    rootCertPem: signing,
    ...(others.length > 0 ? { otherRootPems: others } : {}),
  };
  verifyMaterial(m);
  return m;
}

/** Loads plug-in material (`cacerts`) or the self-signed root, creating the latter once. */
export async function loadOrCreateKubeCa(
  kube: KubeApi,
  namespace: string,
  root: RootOptions,
): Promise<{ material: CaMaterial; source: string }> {
  const plugin = await kube.call<SecretBody>(
    'GET',
    `/api/v1/namespaces/${namespace}/secrets/${PLUGIN_SECRET}`,
  );
  if (plugin.status === 200) {
    const d = plugin.body.data;
    const caCert = dec(d, 'ca-cert.pem');
    const caKey = dec(d, 'ca-key.pem');
    const rootCert = dec(d, 'root-cert.pem');
    if (!caCert || !caKey || !rootCert)
      throw new Error(`secret ${namespace}/${PLUGIN_SECRET} lacks ca-cert.pem, ca-key.pem or root-cert.pem`);
    const chain = dec(d, 'cert-chain.pem');
    return {
      material: await pluginCa({ caCert, caKey, rootCert, ...(chain ? { certChain: chain } : {}) }),
      source: 'plugin',
    };
  }
  const path = `/api/v1/namespaces/${namespace}/secrets`;
  const read = async () => {
    const r = await kube.call<SecretBody>('GET', `${path}/${SELF_SIGNED_SECRET}`);
    if (r.status !== 200) return undefined;
    return selfSignedMaterial(r.body.data, `${namespace}/${SELF_SIGNED_SECRET}`);
  };
  const existing = await read();
  if (existing) return { material: existing, source: 'self-signed (existing)' };
  const fresh = await createRootCa(root);
  const created = await kube.call('POST', path, {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: SELF_SIGNED_SECRET, namespace },
    type: 'istio.io/ca-root',
    data: {
      'ca-cert.pem': enc(fresh.caCertPem),
      'ca-key.pem': enc(fresh.caKeyPem),
      'root-cert.pem': enc(fresh.rootCertPem),
    },
  });
  if (created.status === 201) return { material: fresh, source: 'self-signed (created)' };
  if (created.status === 409) {
    const winner = await read();
    if (winner) return { material: winner, source: 'self-signed (existing)' };
  }
  throw new Error(`creating secret ${namespace}/${SELF_SIGNED_SECRET}: HTTP ${created.status}`);
}

/**
 * Writes ConfigMap istio-ca-root-cert (key root-cert.pem) into `namespaces` (default: every
 * namespace), creating or correcting it; returns how many changed.
 */
export async function publishRootCert(
  kube: KubeApi,
  rootCertPem: string,
  namespaces?: readonly string[],
): Promise<number> {
  let names = namespaces;
  if (!names) {
    const list = await kube.call<{ items?: { metadata: { name: string } }[] }>('GET', '/api/v1/namespaces');
    if (list.status !== 200) throw new Error(`listing namespaces: HTTP ${list.status}`);
    names = (list.body.items ?? []).map((ns) => ns.metadata.name);
  }
  let changed = 0;
  for (const name of names) {
    const path = `/api/v1/namespaces/${name}/configmaps`;
    const cm = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: ROOT_CONFIGMAP, namespace: name },
      data: { 'root-cert.pem': rootCertPem },
    };
    const cur = await kube.call<{ data?: Record<string, string> }>('GET', `${path}/${ROOT_CONFIGMAP}`);
    if (cur.status === 404) {
      if ((await kube.call('POST', path, cm)).status === 201) changed++;
    } else if (cur.status === 200 && cur.body.data?.['root-cert.pem'] !== rootCertPem) {
      if ((await kube.call('PUT', `${path}/${ROOT_CONFIGMAP}`, cm)).status === 200) changed++;
    }
  }
  return changed;
}
