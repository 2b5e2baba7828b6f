// RequestAuthentication → the Envoy jwt_authn HTTP filter (canonical JSON). Requests without a
// token pass (AuthorizationPolicy decides); a present but invalid token is rejected (401). jwksUri
// needs an outbound cluster to the JWKS host, named as Istio names it (jwksCluster).
import type { RequestAuthentication, jwtAuthnV3 } from '@skein/api-types';
import { DEFAULT_ROOT_NAMESPACE, oldestFirst, policyApplies, type WorkloadView } from './workload-view.js';

export const JWT_AUTHN_TYPE =
  'type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication';

export interface JwksCluster {
  /** outbound|<port>||<host> */
  name: string;
  host: string;
  port: number;
  tls: boolean;
}

/** The cluster a jwksUri is fetched through. */
export function jwksCluster(uri: string): JwksCluster {
  const u = new URL(uri);
  const tls = u.protocol === 'https:';
  const port = u.port ? Number(u.port) : tls ? 443 : 80;
  return { name: `outbound|${port}||${u.hostname}`, host: u.hostname, port, tls };
}

export interface JwtTranslation {
  /** The jwt_authn HTTP filter, or undefined when no RequestAuthentication applies. */
  filter?: { name: string; typedConfig: { '@type': string } & jwtAuthnV3.JwtAuthenticationJson };
  /** Clusters the control plane must provide for remote JWKS. */
  jwksClusters: JwksCluster[];
}

export function translateRequestAuthentication(
  all: RequestAuthentication[],
  o: { workload?: WorkloadView; rootNamespace?: string } = {},
): JwtTranslation {
  const root = o.rootNamespace ?? DEFAULT_ROOT_NAMESPACE;
  const applicable = all.filter((p) => !o.workload || policyApplies(p, o.workload, root)).sort(oldestFirst);
  const providers: Record<string, jwtAuthnV3.JwtProviderJson> = {};
  const clusters = new Map<string, JwksCluster>();
  let n = 0;
  for (const p of applicable) {
    for (const rule of p.spec.jwtRules ?? []) {
      const name = `origins-${n++}`;
      const provider: jwtAuthnV3.JwtProviderJson = {
        issuer: rule.issuer,
        ...(rule.audiences?.length ? { audiences: rule.audiences } : {}),
        forward: rule.forwardOriginalToken === true,
        // The verified payload, by issuer, for request.auth.* (the proxy derives istio_authn from it).
        payloadInMetadata: rule.issuer,
        ...(rule.outputPayloadToHeader ? { forwardPayloadHeader: rule.outputPayloadToHeader } : {}),
        ...(rule.fromHeaders?.length
          ? {
              fromHeaders: rule.fromHeaders.map((h) => ({
                name: h.name,
                ...(h.prefix ? { valuePrefix: h.prefix } : {}),
              })),
            }
          : {}),
        ...(rule.fromParams?.length ? { fromParams: rule.fromParams } : {}),
        ...(rule.fromCookies?.length ? { fromCookies: rule.fromCookies } : {}),
        ...(rule.outputClaimToHeaders?.length
          ? {
              claimToHeaders: rule.outputClaimToHeaders.map((c) => ({
                headerName: c.header,
                claimName: c.claim,
              })),
            }
          : {}),
      };
      if (rule.jwks) provider.localJwks = { inlineString: rule.jwks };
      else if (rule.jwksUri) {
        const c = jwksCluster(rule.jwksUri);
        clusters.set(c.name, c);
        provider.remoteJwks = {
          httpUri: { uri: rule.jwksUri, cluster: c.name, timeout: rule.timeout ?? '5s' },
          cacheDuration: '300s',
        };
      }
      providers[name] = provider;
    }
  }
  const names = Object.keys(providers);
  if (names.length === 0) return { jwksClusters: [] };
  return {
    filter: {
      name: 'envoy.filters.http.jwt_authn',
      typedConfig: {
        '@type': JWT_AUTHN_TYPE,
        providers,
        rules: [
          {
            match: { prefix: '/' },
            requires: {
              requiresAny: {
                requirements: [...names.map((providerName) => ({ providerName })), { allowMissing: {} }],
              },
            },
          },
        ],
      },
    },
    jwksClusters: [...clusters.values()],
  };
}
