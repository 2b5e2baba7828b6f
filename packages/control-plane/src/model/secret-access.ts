// Which proxies may receive credentialName Secrets. In Kubernetes mode skeind asks the API server,
// as istiod does, whether the proxy's verified service account may `list` `secrets` in its own
// namespace (a SubjectAccessReview); each answer is kept in the config store as an internal object
// of kind SecretAccessReview (namespace = the proxy's, name = its service account), so a verdict
// reaches translation — and a changed verdict reaches proxies — like any other configuration.
// A proxy whose identity is not verified (the plaintext xDS port) gets no Secret in that mode.
// Without Kubernetes there is no RBAC to ask: every proxy may have its own namespace's Secrets.
import type { ConfigObject } from './istio-types.js';

export const SECRET_ACCESS_KIND = 'SecretAccessReview';
export const SECRET_ACCESS_API_VERSION = 'internal.skein.dev/v1';

/**
 * How a proxy's access to credentialName Secrets is decided: `open` (no RBAC: directory mode),
 * `review` (its verified service account's SubjectAccessReview verdict), `unverified` (none).
 */
export type CredentialAccess = 'open' | 'review' | 'unverified';

export interface SecretAccessSpec {
  readonly allowed: boolean;
  /** The API server's reason, or the error that made the review fail (then `allowed` is false). */
  readonly reason: string;
}

export function secretAccessObject(
  namespace: string,
  serviceAccount: string,
  spec: SecretAccessSpec,
): ConfigObject {
  return {
    apiVersion: SECRET_ACCESS_API_VERSION,
    kind: SECRET_ACCESS_KIND,
    metadata: { name: serviceAccount, namespace },
    spec,
  };
}

/** The verdict for a service account, or undefined while it has not been reviewed. */
export function secretAccessVerdict(
  byKind: ReadonlyMap<string, readonly ConfigObject[]>,
  namespace: string,
  serviceAccount: string,
): boolean | undefined {
  const o = (byKind.get(SECRET_ACCESS_KIND) ?? []).find(
    (x) => x.metadata.namespace === namespace && x.metadata.name === serviceAccount,
  );
  return o ? (o.spec as SecretAccessSpec).allowed : undefined;
}

/** Whether a proxy may receive its namespace's credentialName Secrets now. */
export function mayReceiveCredentials(
  access: CredentialAccess | undefined,
  byKind: ReadonlyMap<string, readonly ConfigObject[]>,
  namespace: string,
  serviceAccount: string,
): boolean {
  if (access === undefined || access === 'open') return true;
  if (access === 'unverified') return false;
  return secretAccessVerdict(byKind, namespace, serviceAccount) === true;
}
