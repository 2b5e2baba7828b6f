// envoy.filters.network.rbac: decides, once per connection (after TLS, so the peer principal is
// known), whether the connection may proceed to the chain's terminal filter. Uses @skein/ca's
// RBAC engine; denied connections are closed and counted.
import type { RbacRulesJson } from '@skein/ca';
import { caEngine } from '../util/optional-modules.js';
import type { DownstreamConnection } from '../http-connection-manager/proxy-context.js';

export const NETWORK_RBAC_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC';

export interface NetworkRbac {
  statPrefix: string;
  rules: RbacRulesJson | undefined;
}

export function networkRbacOf(typedConfig: Record<string, unknown>): NetworkRbac {
  const rules = typedConfig['rules'] as RbacRulesJson | undefined;
  return {
    statPrefix: String(typedConfig['statPrefix'] ?? ''),
    // Canonical proto3 JSON omits the default enum value: no `action` means ALLOW.
    rules: rules ? { ...rules, action: rules.action ?? 'ALLOW' } : undefined,
  };
}

/** Undefined when every filter allows the connection, else the stat prefix of the one that denied. */
export function connectionDenied(
  filters: readonly NetworkRbac[],
  conn: DownstreamConnection,
  sni: string | undefined,
): string | undefined {
  for (const f of filters) {
    if (!f.rules) continue;
    const d = caEngine().evaluateRbac(f.rules, {
      directRemoteIp: conn.remoteAddress,
      remoteIp: conn.remoteAddress,
      destinationIp: conn.localAddress,
      destinationPort: conn.localPort,
      ...(conn.peerPrincipal ? { principal: conn.peerPrincipal } : {}),
      ...(sni ? { sni } : {}),
    });
    if (!d.allowed) return f.statPrefix;
  }
  return undefined;
}
