// JWTs for the jwt_authn tests: one RSA key (kid `k1`), its public JWK for a JWKS, and tokens it
// signs with RS256.
import { generateKeyPairSync, sign } from 'node:crypto';

const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

/** The public key as a JWK (kid `k1`, RS256), for a JWKS document. */
export const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'RS256', use: 'sig' };

/** A compact JWT carrying `payload`, signed with the key behind `jwk`. */
export function token(payload: Record<string, unknown>): string {
  const b = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${b({ alg: 'RS256', kid: 'k1', typ: 'JWT' })}.${b(payload)}`;
  return `${input}.${sign('RSA-SHA256', Buffer.from(input), privateKey).toString('base64url')}`;
}
