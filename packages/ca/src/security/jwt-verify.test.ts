// JWT validation with tokens signed by an independent library (jose): RS256 and ES256, inline and
// fetched JWKS (cached), issuer, audiences, expiry, missing tokens, forwarded payload and claims,
// and the istio_authn metadata feeding request.auth.* RBAC rules end to end.
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { translateAuthorizationPolicies } from './authz/authorization-policy.js';
import { evaluateRbacChain } from './authz/rbac-engine.js';
import { translateRequestAuthentication } from './jwt-authn.js';
import { authenticateJwt, jwksResolver } from './jwt-verify.js';

const NOW = Date.UTC(2026, 10, 25, 12);

async function issuer(alg: 'RS256' | 'ES256', kid: string) {
  const { publicKey, privateKey } = await generateKeyPair(alg);
  const jwk = { ...(await exportJWK(publicKey)), kid, alg };
  const sign = (claims: Record<string, unknown>, iss: string, exp = NOW / 1000 + 3600) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg, kid })
      .setIssuer(iss)
      .setIssuedAt(NOW / 1000)
      .setExpirationTime(exp)
      .sign(privateKey);
  return { jwks: JSON.stringify({ keys: [jwk] }), sign };
}

describe('authenticateJwt', async () => {
  const rsa = await issuer('RS256', 'r1');
  const ec = await issuer('ES256', 'e1');
  const fetched: string[] = [];
  const jwks = jwksResolver(
    async (uri) => {
      fetched.push(uri);
      return ec.jwks;
    },
    () => NOW,
  );
  const ra = (spec: Record<string, unknown>) => ({
    apiVersion: 'security.istio.io/v1',
    kind: 'RequestAuthentication' as const,
    metadata: { name: 'jwt', namespace: 'shop' },
    spec,
  });
  const config = translateRequestAuthentication([
    ra({
      jwtRules: [
        {
          issuer: 'https://rsa.example',
          jwks: rsa.jwks,
          audiences: ['web'],
          outputPayloadToHeader: 'x-jwt-payload',
          outputClaimToHeaders: [{ header: 'x-group', claim: 'group' }],
        },
        {
          issuer: 'https://ec.example',
          jwksUri: 'https://ec.example/.well-known/jwks.json',
          forwardOriginalToken: true,
        },
      ],
    }) as never,
  ]).filter!.typedConfig;
  const req = (token?: string) => ({
    headers: token ? { authorization: `Bearer ${token}` } : {},
    path: '/api',
  });

  it('accepts valid RS256 and ES256 tokens and writes istio_authn metadata', async () => {
    const r = await authenticateJwt(
      config,
      req(await rsa.sign({ sub: 'alice', aud: 'web', group: 'admins' }, 'https://rsa.example')),
      jwks,
      NOW,
    );
    expect(r).toMatchObject({
      ok: true,
      metadata: {
        'request.auth.principal': 'https://rsa.example/alice',
        'request.auth.audiences': ['web'],
        'request.auth.claims.group': ['admins'],
      },
      headersToSet: { 'x-group': 'admins' },
      headersToRemove: ['authorization'],
    });
    expect(r.ok && Object.keys(r.headersToSet)).toContain('x-jwt-payload');
    const e = await authenticateJwt(
      config,
      req(await ec.sign({ sub: 'bob' }, 'https://ec.example')),
      jwks,
      NOW,
    );
    expect(e).toMatchObject({ ok: true, headersToRemove: [] });
    await authenticateJwt(config, req(await ec.sign({ sub: 'bob' }, 'https://ec.example')), jwks, NOW);
    expect(fetched).toEqual(['https://ec.example/.well-known/jwks.json']); // cached
  });

  it('lets requests without a token through and rejects bad ones with 401', async () => {
    expect(await authenticateJwt(config, req(), jwks, NOW)).toEqual({
      ok: true,
      headersToSet: {},
      headersToRemove: [],
    });
    const expired = await rsa.sign({ sub: 'a', aud: 'web' }, 'https://rsa.example', NOW / 1000 - 3600);
    expect(await authenticateJwt(config, req(expired), jwks, NOW)).toMatchObject({
      ok: false,
      reason: 'Jwt is expired',
    });
    const wrongAud = await rsa.sign({ sub: 'a', aud: 'other' }, 'https://rsa.example');
    expect(await authenticateJwt(config, req(wrongAud), jwks, NOW)).toMatchObject({
      ok: false,
      reason: 'Audiences in Jwt are not allowed',
    });
    const forged = await ec.sign({ sub: 'a', aud: 'web' }, 'https://rsa.example'); // signed with the wrong key
    expect(await authenticateJwt(config, req(forged), jwks, NOW)).toMatchObject({
      ok: false,
      reason: 'Jwt verification fails',
    });
    const unknown = await rsa.sign({ sub: 'a' }, 'https://nobody.example');
    expect(await authenticateJwt(config, req(unknown), jwks, NOW)).toMatchObject({
      ok: false,
      reason: 'Jwt issuer is not configured',
    });
  });

  it('feeds request.auth.* rules: AuthorizationPolicy requiring a JWT group', async () => {
    const authz = translateAuthorizationPolicies(
      [
        {
          apiVersion: 'security.istio.io/v1',
          kind: 'AuthorizationPolicy',
          metadata: { name: 'admins', namespace: 'shop' },
          spec: {
            rules: [
              {
                from: [{ source: { requestPrincipals: ['https://rsa.example/*'] } }],
                when: [{ key: 'request.auth.claims[group]', values: ['admins'] }],
              },
            ],
          },
        },
      ],
      { trustDomain: 'cluster.local' },
    ).httpFilters.map((f) => f.typedConfig.rules);
    const decide = async (token?: string) => {
      const r = await authenticateJwt(config, req(token), jwks, NOW);
      if (!r.ok) return 401;
      return evaluateRbacChain(authz, {
        headers: { ':path': '/api' },
        ...(r.metadata ? { metadata: { istio_authn: r.metadata } } : {}),
      }).allowed
        ? 200
        : 403;
    };
    expect(
      await decide(await rsa.sign({ sub: 'a', aud: 'web', group: 'admins' }, 'https://rsa.example')),
    ).toBe(200);
    expect(
      await decide(await rsa.sign({ sub: 'a', aud: 'web', group: 'users' }, 'https://rsa.example')),
    ).toBe(403);
    expect(await decide()).toBe(403);
    expect(await decide('not.a.jwt')).toBe(401);
  });
});
