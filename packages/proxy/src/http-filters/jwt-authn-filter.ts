// envoy.filters.http.jwt_authn (Istio's RequestAuthentication): verifies JWTs with @skein/ca's
// verifier (issuer, audiences, expiry, JWKS inline or fetched and cached), answers 401 for a bad
// token, applies the filter's header changes, and records request.auth.* as `istio_authn`
// dynamic metadata for the RBAC filters that follow. Remote JWKS come through the cluster the
// provider names (jwks-fetcher.ts).
import type { JwksResolver } from '@skein/ca';
import { caEngine } from '../util/optional-modules.js';
import type { jwtAuthnV3 } from '@skein/api-types';
import type { FilterRequest, FilterStatus, HttpFilter } from './http-filter.js';

export const JWT_AUTHN_FILTER_TYPE =
  'type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication';

export function createJwtAuthnFilter(
  name: string,
  config: jwtAuthnV3.JwtAuthenticationJson,
  jwks: JwksResolver & { prefetch?: (p: jwtAuthnV3.JwtProviderJson) => void },
): HttpFilter {
  // async_fetch: fetch each remote JWKS now, not on the first request.
  for (const p of Object.values(config.providers ?? {})) jwks.prefetch?.(p);
  return {
    name,
    async onRequest(req: FilterRequest): Promise<FilterStatus> {
      const outcome = await caEngine().authenticateJwt(
        config,
        { headers: req.headers, path: req.path },
        jwks,
      );
      if (!outcome.ok) {
        req.respond(outcome.status, outcome.reason, { 'www-authenticate': 'Bearer realm="skein"' });
        return 'stop';
      }
      for (const h of outcome.headersToRemove) delete req.headers[h.toLowerCase()];
      for (const [k, v] of Object.entries(outcome.headersToSet)) req.headers[k.toLowerCase()] = v;
      if (outcome.metadata) {
        req.info.dynamicMetadata = { ...(req.info.dynamicMetadata ?? {}), istio_authn: outcome.metadata };
      }
      if (outcome.payload) {
        req.info.dynamicMetadata = {
          ...(req.info.dynamicMetadata ?? {}),
          'envoy.filters.http.jwt_authn': outcome.payload,
        };
      }
      return 'continue';
    },
  };
}
