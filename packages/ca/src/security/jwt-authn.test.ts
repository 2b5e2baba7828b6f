// RequestAuthentication translation: providers, inline and remote JWKS, missing tokens allowed.
import { encodeJson, type RequestAuthentication } from '@skein/api-types';
import { describe, expect, it } from 'vitest';
import { jwksCluster, translateRequestAuthentication } from './jwt-authn.js';

const ra = (ns: string, spec: RequestAuthentication['spec']): RequestAuthentication => ({
  apiVersion: 'security.istio.io/v1',
  kind: 'RequestAuthentication',
  metadata: { name: 'jwt', namespace: ns },
  spec,
});

describe('translateRequestAuthentication', () => {
  it('builds one provider per rule and lets requests without a token through', () => {
    const t = translateRequestAuthentication(
      [
        ra('shop', {
          selector: { matchLabels: { app: 'web' } },
          jwtRules: [
            {
              issuer: 'https://a.example',
              jwksUri: 'https://a.example/keys',
              audiences: ['web'],
              forwardOriginalToken: true,
            },
            {
              issuer: 'b',
              jwks: '{"keys":[]}',
              outputPayloadToHeader: 'x-jwt',
              fromHeaders: [{ name: 'x-token', prefix: 'T ' }],
            },
          ],
        }),
        ra('other', { jwtRules: [{ issuer: 'nope' }] }),
      ],
      { workload: { namespace: 'shop', labels: { app: 'web' } } },
    );
    const cfg = t.filter!.typedConfig;
    expect(Object.keys(cfg.providers!)).toEqual(['origins-0', 'origins-1']);
    expect(cfg.providers!['origins-0']).toMatchObject({
      issuer: 'https://a.example',
      audiences: ['web'],
      forward: true,
      remoteJwks: { httpUri: { uri: 'https://a.example/keys', cluster: 'outbound|443||a.example' } },
    });
    expect(cfg.providers!['origins-1']).toMatchObject({
      localJwks: { inlineString: '{"keys":[]}' },
      forwardPayloadHeader: 'x-jwt',
      fromHeaders: [{ name: 'x-token', valuePrefix: 'T ' }],
    });
    expect(cfg.rules![0]!.requires!.requiresAny!.requirements!.at(-1)).toEqual({ allowMissing: {} });
    expect(t.jwksClusters).toEqual([
      { name: 'outbound|443||a.example', host: 'a.example', port: 443, tls: true },
    ]);
    const { '@type': type, ...body } = cfg;
    expect(() => encodeJson(type, body)).not.toThrow();
  });

  it('produces no filter when nothing applies', () => {
    expect(translateRequestAuthentication([], {}).filter).toBeUndefined();
    expect(jwksCluster('http://keys.internal:8080/jwks').name).toBe('outbound|8080||keys.internal');
  });
});
