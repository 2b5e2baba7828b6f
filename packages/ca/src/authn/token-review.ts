// Kubernetes mode: the caller's service-account token, checked with a TokenReview against the API
// server (audience included); the reviewed user system:serviceaccount:<ns>:<sa> is the identity.
import { bearerToken, type Authenticator, type CallCredentials, type Caller } from './authenticator.js';
import { spiffeId } from '../pki/spiffe.js';

export interface TokenReviewResult {
  authenticated: boolean;
  username?: string;
  audiences?: string[];
  error?: string;
}

/** The one call the CA makes to Kubernetes for authentication (POST authentication.k8s.io/v1 tokenreviews). */
export interface TokenReviewer {
  review(token: string, audiences: string[]): Promise<TokenReviewResult>;
}

export class TokenReviewAuthenticator implements Authenticator {
  readonly name = 'kubernetes-token';
  constructor(
    private readonly reviewer: TokenReviewer,
    private readonly trustDomain: string,
    private readonly audiences: string[] = ['istio-ca'],
  ) {}

  async authenticate(creds: CallCredentials): Promise<Caller | undefined> {
    const token = bearerToken(creds);
    if (!token) return undefined;
    const r = await this.reviewer.review(token, this.audiences);
    if (!r.authenticated) throw new Error(`token not authenticated${r.error ? `: ${r.error}` : ''}`);
    if (r.audiences && !r.audiences.some((a) => this.audiences.includes(a))) {
      throw new Error(`token audiences ${r.audiences.join(',')} do not include ${this.audiences.join(',')}`);
    }
    const m = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(r.username ?? '');
    if (!m) throw new Error(`token user ${r.username ?? '?'} is not a service account`);
    return {
      identity: spiffeId({ trustDomain: this.trustDomain, namespace: m[1]!, serviceAccount: m[2]! }),
      method: this.name,
    };
  }
}
