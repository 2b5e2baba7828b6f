// Kubernetes mode: keeps a running CA in step with its Secrets, as istiod follows `cacerts`. Every
// interval the plug-in `cacerts` (else the self-signed `istio-ca-secret`) is read again; changed
// material (a new intermediate, a root-cert.pem with a second root for a rotation's overlap, the
// old root removed) replaces the signing material and trust bundle together. A Secret that fails
// its checks, or a switch between plug-in and self-signed, is logged with the reason and the CA
// keeps signing with what it had.
import { createHash } from 'node:crypto';
import type { CaMaterial, RootOptions } from '../pki/ca-material.js';
import type { CertificateAuthority } from '../pki/issue.js';
import type { KubeApi } from './kube-client.js';
import { PLUGIN_SECRET, loadOrCreateKubeCa } from './kube-ca.js';

export interface KubeCaWatch {
  /** Reads the Secrets now; true when the CA changed. */
  reload(): Promise<boolean>;
  stop(): void;
}

/** A digest of everything that defines the CA: signing certificate and key, chain, roots. */
export function materialDigest(m: CaMaterial): string {
  const h = createHash('sha256');
  for (const part of [
    m.caCertPem,
    m.caKeyPem,
    ...m.chainPems,
    '|',
    m.rootCertPem,
    ...(m.otherRootPems ?? []),
  ])
    h.update(`${part.replace(/\s+/g, '')}\0`);
  return h.digest('hex');
}

export function watchKubeCa(
  kube: KubeApi,
  namespace: string,
  ca: CertificateAuthority,
  o: {
    root: RootOptions;
    /** What the CA was loaded from at start (`loadOrCreateKubeCa`'s source). */
    startedFrom: string;
    intervalMs?: number;
    log?: (msg: string, fields?: Record<string, unknown>) => void;
  },
): KubeCaWatch {
  let chain: Promise<unknown> = Promise.resolve();
  let lastError = '';
  const startedPlugin = o.startedFrom === 'plugin';
  const reload = (): Promise<boolean> => {
    const run = chain.then(async () => {
      const loaded = await loadOrCreateKubeCa(kube, namespace, o.root);
      const plugin = loaded.source === 'plugin';
      // Between plug-in and self-signed the roots share nothing: no overlap, so not taken live.
      if (plugin !== startedPlugin)
        throw new Error(
          startedPlugin
            ? `secret ${namespace}/${PLUGIN_SECRET} is gone; still signing with the plug-in material`
            : `secret ${namespace}/${PLUGIN_SECRET} appeared; a switch from the self-signed root needs a restart (and breaks trust in existing certificates)`,
        );
      if (materialDigest(loaded.material) === materialDigest(ca.material)) return false;
      await ca.update(loaded.material);
      o.log?.('CA reloaded from its Secret', { roots: ca.trustedRoots.length, source: loaded.source });
      return true;
    });
    chain = run.catch(() => undefined);
    return run;
  };
  const timer = setInterval(
    () =>
      void reload().then(
        () => (lastError = ''),
        (e: Error) => {
          // Logged once per distinct failure, not every interval.
          if (e.message !== lastError)
            o.log?.('CA Secret reload failed; still signing with the previous material', {
              namespace,
              error: e.message,
            });
          lastError = e.message;
        },
      ),
    o.intervalMs ?? 5000,
  );
  timer.unref();
  return { reload, stop: () => clearInterval(timer) };
}
