// Renewing a self-signed root with its own key, as istiod's self-signed root rotator does: the new
// root has the old one's subject and key (so the same subject key identifier) and a new serial and
// validity, so every certificate the old root signed chains to the new one as well.
import { X509Certificate } from 'node:crypto';
import { importPrivateKeyPem } from './keys.js';
import { selfSignedRootPem, type CaMaterial } from './ca-material.js';
import { x509 } from './x509.js';

/** istiod's defaults: CITADEL_SELF_SIGNED_ROOT_CERT_GRACE_PERIOD_PERCENTILE and _CA_CERT_TTL. */
export const ROOT_GRACE_PERCENT = 20;
export const ROOT_TTL_SECONDS = 10 * 365 * 86400;

/**
 * When the root is due for renewal: once its remaining lifetime falls under `gracePercent` of its
 * whole lifetime (istiod's rule).
 */
export function rootRenewalTime(certPem: string, gracePercent = ROOT_GRACE_PERCENT): Date {
  const c = new X509Certificate(certPem);
  const from = new Date(c.validFrom).getTime();
  const to = new Date(c.validTo).getTime();
  return new Date(to - ((to - from) * gracePercent) / 100);
}

/** A new self-signed root for `material`'s key and subject, valid `ttlSeconds` from `now`. */
export async function renewSelfSignedRoot(
  material: CaMaterial,
  o: { ttlSeconds?: number; now?: number } = {},
): Promise<string> {
  const old = new x509.X509Certificate(material.caCertPem);
  if (old.subject !== old.issuer) throw new Error('the signing certificate is not a self-signed root');
  const keys = await importPrivateKeyPem(material.caKeyPem);
  return selfSignedRootPem(keys, old.subjectName, o.now ?? Date.now(), o.ttlSeconds ?? ROOT_TTL_SECONDS);
}
