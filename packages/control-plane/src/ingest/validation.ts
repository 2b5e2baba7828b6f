// Validation of incoming mesh objects: one seam (a Validator) so every source rejects an invalid
// object the same way — with the object, the field path and the reason — and skips only it. The
// default is the schema validation of @skein/api-types (validateMeshObject).
import { validateMeshObject, type Problem } from '@skein/api-types';
import { SECRET_KIND, secretObject, tlsCredentialOf, type SecretSpec } from '../model/credentials.js';
import type { ConfigObject } from '../model/istio-types.js';

export type { Problem };

export type Validation =
  { ok: true; object: ConfigObject; warnings: Problem[] } | { ok: false; problems: Problem[] };

export type Validator = (obj: unknown) => Validation;

/**
 * The mesh API's schema validation (every kind, every listed version, RE2, durations, weights),
 * plus Kubernetes Secrets (v1) holding TLS credentials for `credentialName`.
 */
export const meshValidator: Validator = (obj) => {
  if (isSecret(obj)) return credentialSecret(obj);
  const r = validateMeshObject(obj);
  return r.ok ? { ok: true, object: r.object as unknown as ConfigObject, warnings: r.warnings } : r;
};

type RawSecret = Parameters<typeof secretObject>[0] & { apiVersion: string; kind: string };

const isSecret = (obj: unknown): obj is RawSecret =>
  typeof obj === 'object' &&
  obj !== null &&
  (obj as { kind?: unknown }).kind === SECRET_KIND &&
  (obj as { apiVersion?: unknown }).apiVersion === 'v1';

/** A Secret is kept when it holds a TLS credential under Istio's key names. */
function credentialSecret(raw: RawSecret): Validation {
  const o = secretObject(raw);
  const where = `Secret ${o.metadata.namespace ?? 'default'}/${o.metadata.name}`;
  if (!o.metadata.name)
    return {
      ok: false,
      problems: [{ object: where, path: 'metadata.name', reason: 'required', severity: 'error' }],
    };
  const { problems } = tlsCredentialOf(o.spec as SecretSpec);
  if (problems.length > 0)
    return {
      ok: false,
      problems: problems.map((p) => {
        const [path, ...why] = p.split(': ');
        return { object: where, path: path ?? 'data', reason: why.join(': '), severity: 'error' as const };
      }),
    };
  return { ok: true, object: o, warnings: [] };
}
