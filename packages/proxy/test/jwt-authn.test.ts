// RequestAuthentication through a real proxy: the jwt_authn filter (on @skein/ca's verifier)
// rejects a bad token with 401, lets requests without a token through when the rule allows it,
// and hands request.auth.principal to the RBAC filter after it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProxy, type RunningProxy } from '../src/index.js';
import { ADMIN, get, httpListener, startEcho, staticCluster, type Echo } from './helpers/upstreams.js';
import { jwk, token } from './helpers/jwt.js';

const F = 'type.googleapis.com/envoy.extensions.filters.';
const ISS = 'https://issuer.example';
let app: Echo;
let proxy: RunningProxy;
let port: number;

beforeAll(async () => {
  app = await startEcho('app');
  const routes = {
    name: 'r',
    virtual_hosts: [
      { name: 'v', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'app' } }] },
    ],
  };
  proxy = await startProxy(
    {
      admin: ADMIN,
      static_resources: {
        listeners: [
          httpListener('http', routes, {
            http_filters: [
              {
                name: 'envoy.filters.http.jwt_authn',
                typed_config: {
                  '@type': `${F}http.jwt_authn.v3.JwtAuthentication`,
                  providers: {
                    'origins-0': {
                      issuer: ISS,
                      audiences: ['shop'],
                      local_jwks: { inline_string: JSON.stringify({ keys: [jwk] }) },
                      forward: true,
                    },
                  },
                  rules: [
                    {
                      match: { prefix: '/' },
                      requires: {
                        requires_any: {
                          requirements: [{ provider_name: 'origins-0' }, { allow_missing: {} }],
                        },
                      },
                    },
                  ],
                },
              },
              {
                name: 'envoy.filters.http.rbac',
                typed_config: {
                  '@type': `${F}http.rbac.v3.RBAC`,
                  rules: {
                    action: 'ALLOW',
                    policies: {
                      open: {
                        permissions: [{ not_rule: { url_path: { path: { prefix: '/secure' } } } }],
                        principals: [{ any: true }],
                      },
                      alice: {
                        permissions: [{ any: true }],
                        principals: [
                          {
                            metadata: {
                              filter: 'istio_authn',
                              path: [{ key: 'request.auth.principal' }],
                              value: { string_match: { exact: `${ISS}/alice` } },
                            },
                          },
                        ],
                      },
                    },
                  },
                },
              },
              { name: 'envoy.filters.http.router', typed_config: { '@type': `${F}http.router.v3.Router` } },
            ],
          }),
        ],
        clusters: [staticCluster('app', [app.port])],
      },
    },
    { logLevel: 'off' },
  );
  port = proxy.listenerAddress('http')?.port ?? 0;
});

afterAll(async () => {
  await proxy?.stop();
  await app?.close();
});

describe('jwt_authn', () => {
  const good = token({ iss: ISS, sub: 'alice', aud: 'shop', exp: Math.floor(Date.now() / 1000) + 600 });

  it('lets requests without a token through when the rule allows a missing token', async () => {
    expect((await get(port, '/open')).status).toBe(200);
  });

  it('rejects a token with a bad signature or wrong audience with 401', async () => {
    const tampered = good.slice(0, -4) + (good.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    expect((await get(port, '/open', { authorization: `Bearer ${tampered}` })).status).toBe(401);
    const wrongAud = token({
      iss: ISS,
      sub: 'alice',
      aud: 'other',
      exp: Math.floor(Date.now() / 1000) + 600,
    });
    expect((await get(port, '/open', { authorization: `Bearer ${wrongAud}` })).status).toBe(401);
  });

  it('gives request.auth.principal to RBAC: the verified caller reaches /secure, others get 403', async () => {
    const r = await get(port, '/secure', { authorization: `Bearer ${good}` });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text).headers.authorization).toBe(`Bearer ${good}`);
    expect((await get(port, '/secure')).status).toBe(403);
  });
});
