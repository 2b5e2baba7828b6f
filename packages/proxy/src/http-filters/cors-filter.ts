// envoy.filters.http.cors: answers preflight requests and adds CORS response headers from the
// route's or virtual host's CorsPolicy (typed_per_filter_config, or the virtual host's `cors`).
import { compileStringMatcher, type StringMatcherJson } from '../router/string-matcher.js';
import { perFilterConfig, type FilterRequest, type FilterStatus, type HttpFilter } from './http-filter.js';

export const CORS_FILTER = 'envoy.filters.http.cors';

interface CorsPolicy {
  allowOriginStringMatch?: StringMatcherJson[];
  allowMethods?: string;
  allowHeaders?: string;
  exposeHeaders?: string;
  maxAge?: string;
  allowCredentials?: boolean;
}

function policyOf(req: FilterRequest): CorsPolicy | undefined {
  return (
    (perFilterConfig(req, CORS_FILTER) as CorsPolicy | undefined) ??
    (req.vhost?.cors as CorsPolicy | undefined)
  );
}

function originAllowed(p: CorsPolicy, origin: string): boolean {
  return (p.allowOriginStringMatch ?? []).some((m) => compileStringMatcher(m)(origin));
}

export function createCorsFilter(): HttpFilter {
  return {
    name: CORS_FILTER,
    onRequest(req: FilterRequest): FilterStatus {
      const p = policyOf(req);
      const origin = req.headers['origin'];
      if (!p || !origin) return 'continue';
      const preflight =
        req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined;
      if (!preflight) return 'continue';
      if (!originAllowed(p, origin)) return 'continue';
      const h: Record<string, string> = { 'access-control-allow-origin': origin };
      if (p.allowMethods) h['access-control-allow-methods'] = p.allowMethods;
      if (p.allowHeaders) h['access-control-allow-headers'] = p.allowHeaders;
      if (p.maxAge) h['access-control-max-age'] = p.maxAge;
      if (p.allowCredentials) h['access-control-allow-credentials'] = 'true';
      req.respond(200, '', h);
      return 'stop';
    },
    onResponse(req, _status, headers) {
      const p = policyOf(req);
      const origin = req.headers['origin'];
      if (!p || !origin || !originAllowed(p, origin)) return;
      headers['access-control-allow-origin'] = origin;
      if (p.allowCredentials) headers['access-control-allow-credentials'] = 'true';
      if (p.exposeHeaders) headers['access-control-expose-headers'] = p.exposeHeaders;
    },
  };
}
