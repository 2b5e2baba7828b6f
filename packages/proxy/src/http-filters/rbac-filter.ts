// envoy.filters.http.rbac: allows or denies a request by the filter's RBAC rules (ALLOW, DENY,
// LOG), with per-route overrides (RBACPerRoute). The rule semantics are @skein/ca's RBAC engine —
// the same code the security translation is tested with. A denial answers 403 "RBAC: access denied".
import type { RbacRequest, RbacRulesJson } from '@skein/ca';
import { caEngine } from '../util/optional-modules.js';
import type { DownstreamConnection } from '../http-connection-manager/proxy-context.js';
import type { StatsStore } from '../stats/stats-store.js';
import { perFilterConfig, type FilterRequest, type FilterStatus, type HttpFilter } from './http-filter.js';

export const HTTP_RBAC_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC';

interface RbacConfigJson {
  rules?: RbacRulesJson;
  shadowRules?: RbacRulesJson;
}

/** The request as the RBAC engine sees it: peer, destination, headers with pseudo-headers. */
export function rbacRequest(req: FilterRequest, conn: DownstreamConnection): RbacRequest {
  const xff = req.headers['x-forwarded-for']?.split(',')[0]?.trim();
  return {
    directRemoteIp: conn.remoteAddress,
    remoteIp: xff || conn.remoteAddress,
    destinationIp: conn.localAddress,
    destinationPort: conn.localPort,
    ...(conn.peerPrincipal ? { principal: conn.peerPrincipal } : {}),
    headers: { ...req.headers, ':authority': req.authority, ':method': req.method, ':path': req.path },
    metadata: req.info.dynamicMetadata ?? {},
  };
}

export function createRbacFilter(
  name: string,
  config: RbacConfigJson,
  statPrefix: string,
  stats: StatsStore,
): HttpFilter {
  return {
    name,
    onRequest(req: FilterRequest): FilterStatus {
      const override = perFilterConfig(req, name) as { rbac?: RbacConfigJson } | undefined;
      const cfg = override?.rbac ?? config;
      if (!cfg.rules) return 'continue';
      // Canonical proto3 JSON omits the default enum value: no `action` means ALLOW.
      const rules = { ...cfg.rules, action: cfg.rules.action ?? 'ALLOW' };
      const decision = caEngine().evaluateRbac(rules, rbacRequest(req, req.conn));
      const sp = { envoy_http_conn_manager_prefix: statPrefix };
      if (decision.allowed) {
        stats.inc('http.{envoy_http_conn_manager_prefix}.rbac.allowed', sp);
        return 'continue';
      }
      stats.inc('http.{envoy_http_conn_manager_prefix}.rbac.denied', sp);
      req.respond(403, 'RBAC: access denied');
      return 'stop';
    },
  };
}
