// SDS secrets served over ADS for `credentialName` (as istiod serves them): a Gateway server's or
// DestinationRule's `kubernetes://<name>` is the key pair of Secret `<name>` in the proxy's own
// namespace, `kubernetes://<name>-cacert` its CA (`ca.crt` / `cacert`), or the Secret
// `<name>-cacert` when it exists. A proxy never gets a Secret of another namespace, nor any while
// its service account is not allowed to list Secrets there (Kubernetes mode, model/secret-access.ts);
// a name with no such Secret gets no resource (the listener that needs it keeps warming, as in Envoy).
import type { tlsSecretV3 } from '@skein/api-types';
import { SECRET_KIND, tlsCredentialOf, type SecretSpec, type TlsCredential } from '../model/credentials.js';
import type { ConfigObject } from '../model/istio-types.js';
import { mayReceiveCredentials } from '../model/secret-access.js';
import type { TranslateContext } from './context.js';

export const CREDENTIAL_PREFIX = 'kubernetes://';
const CACERT_SUFFIX = '-cacert';

const b64 = (s: string) => Buffer.from(s).toString('base64');

function credential(ctx: TranslateContext, name: string): TlsCredential | undefined {
  const secret = (ctx.snapshot.byKind.get(SECRET_KIND) ?? []).find(
    (o: ConfigObject) =>
      o.metadata.name === name && (o.metadata.namespace ?? 'default') === ctx.proxy.namespace,
  );
  return secret ? tlsCredentialOf(secret.spec as SecretSpec).credential : undefined;
}

/** Whether this proxy may have its namespace's credentials (model/secret-access.ts). */
export function credentialsAllowed(ctx: TranslateContext): boolean {
  const { proxy, snapshot } = ctx;
  return mayReceiveCredentials(
    proxy.credentialAccess,
    snapshot.byKind,
    proxy.namespace,
    proxy.serviceAccount,
  );
}

/** The Envoy Secret for one requested name, or undefined. */
export function credentialSecret(
  ctx: TranslateContext,
  resourceName: string,
): tlsSecretV3.SecretJson | undefined {
  if (!resourceName.startsWith(CREDENTIAL_PREFIX) || !credentialsAllowed(ctx)) return undefined;
  const name = resourceName.slice(CREDENTIAL_PREFIX.length);
  if (name === '' || name.includes('/')) return undefined;
  if (name.endsWith(CACERT_SUFFIX)) {
    const ca =
      credential(ctx, name)?.caCertPem ?? credential(ctx, name.slice(0, -CACERT_SUFFIX.length))?.caCertPem;
    return ca
      ? { name: resourceName, validationContext: { trustedCa: { inlineBytes: b64(ca) } } }
      : undefined;
  }
  const c = credential(ctx, name);
  if (!c?.certChainPem || !c.privateKeyPem) return undefined;
  return {
    name: resourceName,
    tlsCertificate: {
      certificateChain: { inlineBytes: b64(c.certChainPem) },
      privateKey: { inlineBytes: b64(c.privateKeyPem) },
    },
  };
}

/** The Secrets among `names` this proxy may have, sorted by name. */
export function credentialSecrets(ctx: TranslateContext, names: readonly string[]): tlsSecretV3.SecretJson[] {
  return [...new Set(names)]
    .sort()
    .map((n) => credentialSecret(ctx, n))
    .filter((s) => s !== undefined);
}
