// TLS credentials from Kubernetes Secrets, as Istio reads them for a Gateway's (or a
// DestinationRule's) `credentialName`: `kubernetes.io/tls` keys `tls.crt` / `tls.key` / `ca.crt`,
// or the generic keys `cert` / `key` / `cacert`; the CA may also come from a Secret named
// `<name>-cacert`. Secrets are ConfigObjects of kind Secret (apiVersion v1) whose spec holds the
// type and the base64 `data`; only TLS-shaped ones are kept.
import type { ConfigObject } from './istio-types.js';

export const SECRET_KIND = 'Secret';

export interface SecretSpec {
  readonly type?: string | undefined;
  /** base64 values, as the API holds them. */
  readonly data: Readonly<Record<string, string>>;
}

export interface TlsCredential {
  readonly certChainPem?: string | undefined;
  readonly privateKeyPem?: string | undefined;
  readonly caCertPem?: string | undefined;
}

const KEY_PAIRS = [
  ['tls.crt', 'tls.key'],
  ['cert', 'key'],
] as const;
const CA_KEYS = ['ca.crt', 'cacert'] as const;

const decode = (v: string | undefined): string | undefined =>
  v === undefined || v === '' ? undefined : Buffer.from(v, 'base64').toString('utf8');

/** Whether a Secret's data has a key pair or a CA under Istio's key names. */
export function isTlsSecretData(data: Readonly<Record<string, string>> | undefined): boolean {
  if (!data) return false;
  return KEY_PAIRS.some(([c, k]) => data[c] && data[k]) || CA_KEYS.some((k) => data[k]);
}

/** The credential a Secret holds; problems name the key and the reason. */
export function tlsCredentialOf(spec: SecretSpec): { credential: TlsCredential; problems: string[] } {
  const problems: string[] = [];
  const pair = KEY_PAIRS.find(([c, k]) => spec.data[c] || spec.data[k]);
  let certChainPem: string | undefined;
  let privateKeyPem: string | undefined;
  if (pair) {
    certChainPem = decode(spec.data[pair[0]]);
    privateKeyPem = decode(spec.data[pair[1]]);
    if (!certChainPem?.includes('-----BEGIN CERTIFICATE-----'))
      problems.push(`data.${pair[0]}: want a PEM certificate chain`);
    if (!privateKeyPem?.includes('PRIVATE KEY-----'))
      problems.push(`data.${pair[1]}: want a PEM private key`);
  }
  const caKey = CA_KEYS.find((k) => spec.data[k]);
  const caCertPem = caKey ? decode(spec.data[caKey]) : undefined;
  if (caKey && !caCertPem?.includes('-----BEGIN CERTIFICATE-----'))
    problems.push(`data.${caKey}: want PEM certificates`);
  if (!pair && !caKey) problems.push('data: no tls.crt/tls.key, cert/key, ca.crt or cacert');
  return {
    credential: {
      ...(certChainPem ? { certChainPem } : {}),
      ...(privateKeyPem ? { privateKeyPem } : {}),
      ...(caCertPem ? { caCertPem } : {}),
    },
    problems,
  };
}

/** A Kubernetes Secret (data base64, or stringData) as a ConfigObject. */
export function secretObject(raw: {
  metadata?: { name?: string; namespace?: string; [k: string]: unknown };
  type?: string;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}): ConfigObject {
  const data: Record<string, string> = { ...raw.data };
  for (const [k, v] of Object.entries(raw.stringData ?? {})) data[k] = Buffer.from(v).toString('base64');
  return {
    apiVersion: 'v1',
    kind: SECRET_KIND,
    metadata: {
      name: raw.metadata?.name ?? '',
      ...(raw.metadata?.namespace ? { namespace: raw.metadata.namespace } : {}),
    },
    spec: { ...(raw.type ? { type: raw.type } : {}), data } satisfies SecretSpec,
  };
}
