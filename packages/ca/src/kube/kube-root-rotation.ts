// Operator-driven rotation of a self-signed root to a new key, Kubernetes mode: the directory
// mode's three steps (prepare, switch, finish) as edits of Secret istio-ca-secret, which a running
// CA follows through its Secret watch. prepare: a new root (new key) kept under next-ca-*.pem and
// added to root-cert.pem — trusted, not signing. switch: it signs (ca-cert.pem / ca-key.pem), the
// old root stays in root-cert.pem. finish: root-cert.pem = the signing root only. Every write
// carries the resourceVersion read, so a concurrent edit fails the step instead of being lost.
import { createRootCa, type RootOptions } from '../pki/ca-material.js';
import { splitPem, trustBundlePem } from '../pki/pem.js';
import type { RotationStep } from '../store/root-rotation.js';
import type { KubeApi } from './kube-client.js';
import {
  PLUGIN_SECRET,
  SELF_SIGNED_SECRET,
  dec,
  enc,
  selfSignedMaterial,
  type SecretBody,
} from './kube-ca.js';

const NEXT_CERT = 'next-ca-cert.pem';
const NEXT_KEY = 'next-ca-key.pem';

/** Performs one rotation step on istio-ca-secret; returns what it did. */
export async function rotateKubeRoot(
  kube: KubeApi,
  namespace: string,
  step: RotationStep,
  root: RootOptions,
): Promise<string> {
  const path = `/api/v1/namespaces/${namespace}/secrets`;
  const name = `${namespace}/${SELF_SIGNED_SECRET}`;
  if ((await kube.call('GET', `${path}/${PLUGIN_SECRET}`)).status === 200)
    throw new Error(
      `${namespace}/${PLUGIN_SECRET} holds a plug-in CA: rotate it by editing cacerts (this rotation is for the self-signed root)`,
    );
  const r = await kube.call<SecretBody>('GET', `${path}/${SELF_SIGNED_SECRET}`);
  if (r.status !== 200) throw new Error(`reading ${name}: HTTP ${r.status}`);
  const data = { ...(r.body.data ?? {}) };
  const current = selfSignedMaterial(data, name);
  const trusted = splitPem(dec(data, 'root-cert.pem') ?? current.caCertPem);
  let done: string;
  switch (step) {
    case 'prepare': {
      if (data[NEXT_CERT]) throw new Error('a rotation is already prepared (switch or finish it)');
      if (trusted.length > 1)
        throw new Error('root-cert.pem still holds a previous root (run the finish step first)');
      const next = await createRootCa({
        ...root,
        commonName: `Skein root CA ${new Date(root.now ?? Date.now()).toISOString()}`,
      });
      data[NEXT_CERT] = enc(next.caCertPem);
      data[NEXT_KEY] = enc(next.caKeyPem);
      data['root-cert.pem'] = enc(trustBundlePem([current.caCertPem, next.caCertPem]));
      done = 'new root added to root-cert.pem: trusted, not yet signing';
      break;
    }
    case 'switch': {
      const cert = dec(data, NEXT_CERT);
      const key = dec(data, NEXT_KEY);
      if (!cert || !key) throw new Error('no prepared root (run the prepare step first)');
      // Checked before anything is written: a broken next root never signs.
      selfSignedMaterial({ 'ca-cert.pem': enc(cert), 'ca-key.pem': enc(key) }, `${name} (${NEXT_CERT})`);
      data['ca-cert.pem'] = enc(cert);
      data['ca-key.pem'] = enc(key);
      data['root-cert.pem'] = enc(trustBundlePem([cert, ...trusted]));
      delete data[NEXT_CERT];
      delete data[NEXT_KEY];
      done = 'the new root signs; the previous root stays trusted until the finish step';
      break;
    }
    case 'finish':
      if (data[NEXT_CERT]) throw new Error('the prepared root does not sign yet (run the switch step first)');
      if (trusted.length < 2) throw new Error('no previous root to drop (run the switch step first)');
      data['root-cert.pem'] = enc(current.caCertPem);
      done = 'the previous root is dropped from the trust bundle';
      break;
  }
  const put = await kube.call('PUT', `${path}/${SELF_SIGNED_SECRET}`, { ...r.body, data });
  if (put.status === 409)
    throw new Error(`${name} was edited concurrently; nothing written (run the step again)`);
  if (put.status !== 200) throw new Error(`updating ${name}: HTTP ${put.status}`);
  return done;
}
