// Authenticating proxies on skeind's TLS xDS port (15012): the same authenticators as the CA
// (mesh certificate, service-account token, bootstrap token), and the identity must be the one
// the proxy's node metadata claims (namespace and service account), as Istio checks.
import { parseSpiffeId } from '../pki/spiffe.js';
import { authenticate, type Authenticator, type CallCredentials, type Caller } from './authenticator.js';

export interface ClaimedProxy {
  namespace: string;
  serviceAccount: string;
}

/** The caller, or an error naming the mismatch (reply UNAUTHENTICATED / PERMISSION_DENIED). */
export async function authenticateXdsCaller(
  authenticators: Authenticator[],
  creds: CallCredentials,
  claimed: ClaimedProxy,
): Promise<Caller> {
  const caller = await authenticate(authenticators, creds);
  const id = parseSpiffeId(caller.identity);
  if (!id || id.namespace !== claimed.namespace || id.serviceAccount !== claimed.serviceAccount) {
    throw new Error(
      `proxy authenticated as ${caller.identity} claims namespace ${claimed.namespace} service account ${claimed.serviceAccount}`,
    );
  }
  return caller;
}
