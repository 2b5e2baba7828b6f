// AuthorizationPolicy → Envoy RBAC filters (HTTP and network), in enforcement order: AUDIT (LOG),
// DENY, ALLOW. CUSTOM is accepted and reported as unsupported. For TCP, HTTP-only attributes make an
// ALLOW rule match nothing and are dropped from a DENY rule (both err on the side of denying).
import type { AuthorizationPolicy, Condition, Rule } from '@skein/api-types';
import { DEFAULT_ROOT_NAMESPACE, oldestFirst, policyApplies, type WorkloadView } from '../workload-view.js';
import {
  andIds,
  andRules,
  anyPermission,
  anyPrincipal,
  authnMetadata,
  cidr,
  headerPrincipal,
  hostPermission,
  methodPermission,
  namespaceMatcher,
  orIds,
  orRules,
  pathPermission,
  portPermission,
  principalMatcher,
  serviceAccountMatcher,
  wildcard,
  type PermissionJson,
  type PrincipalJson,
} from './rbac-builders.js';

export type RbacAction = 'ALLOW' | 'DENY' | 'LOG';

/** The `rules` of an Envoy RBAC filter. */
export interface RbacRulesJson {
  action: RbacAction;
  policies: Record<string, { permissions: PermissionJson[]; principals: PrincipalJson[] }>;
}

export interface SecurityProblem {
  object: string;
  path: string;
  reason: string;
  severity: 'error' | 'warning';
}

export interface RbacFilter {
  name: string;
  typedConfig: { '@type': string; rules: RbacRulesJson; statPrefix?: string; shadowRulesStatPrefix?: string };
}

export interface AuthzTranslation {
  /** HTTP filters to insert before the router, in order. Empty: no policy applies. */
  httpFilters: RbacFilter[];
  /** Network filters to insert before tcp_proxy (or the HTTP connection manager), in order. */
  networkFilters: RbacFilter[];
  problems: SecurityProblem[];
}

export interface AuthzOptions {
  trustDomain: string;
  rootNamespace?: string;
  /** When given, only the policies attached to this workload are translated. */
  workload?: WorkloadView;
}

const HTTP_RBAC = 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC';
const NET_RBAC = 'type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC';

type Mode = 'http' | 'tcp';
class HttpOnly extends Error {}

const SOURCE_KEYS =
  /^(source\.(ip|namespace|principal)|remote\.ip|request\.headers\[.+\]|request\.auth\.(principal|audiences|presenter|claims\[.+\]))$/;
const DEST_KEYS = /^(destination\.(ip|port)|connection\.sni)$/;

function fromPrincipal(
  src: NonNullable<NonNullable<Rule['from']>[number]['source']>,
  mode: Mode,
  td: string,
): PrincipalJson {
  const parts: PrincipalJson[] = [];
  const field = (
    values: string[] | undefined,
    not: string[] | undefined,
    f: (v: string) => PrincipalJson,
    httpOnly = false,
  ) => {
    if (!values?.length && !not?.length) return;
    if (httpOnly && mode === 'tcp') throw new HttpOnly();
    if (values?.length) parts.push(orIds(values.map(f)));
    if (not?.length) parts.push({ notId: orIds(not.map(f)) });
  };
  field(src.principals, src.notPrincipals, principalMatcher);
  field(src.serviceAccounts, src.notServiceAccounts, (v) => serviceAccountMatcher(v, td));
  field(src.namespaces, src.notNamespaces, namespaceMatcher);
  field(src.ipBlocks, src.notIpBlocks, (v) => ({ directRemoteIp: cidr(v) }));
  field(src.remoteIpBlocks, src.notRemoteIpBlocks, (v) => ({ remoteIp: cidr(v) }));
  field(
    src.requestPrincipals,
    src.notRequestPrincipals,
    (v) => authnMetadata('request.auth.principal', wildcard(v)),
    true,
  );
  return andIds(parts);
}

function toPermission(
  op: NonNullable<NonNullable<Rule['to']>[number]['operation']>,
  mode: Mode,
): PermissionJson {
  const parts: PermissionJson[] = [];
  const field = (
    values: string[] | undefined,
    not: string[] | undefined,
    f: (v: string) => PermissionJson,
    httpOnly: boolean,
  ) => {
    if (!values?.length && !not?.length) return;
    if (httpOnly && mode === 'tcp') throw new HttpOnly();
    if (values?.length) parts.push(orRules(values.map(f)));
    if (not?.length) parts.push({ notRule: orRules(not.map(f)) });
  };
  field(op.hosts, op.notHosts, hostPermission, true);
  field(op.ports, op.notPorts, portPermission, false);
  field(op.methods, op.notMethods, methodPermission, true);
  field(op.paths, op.notPaths, pathPermission, true);
  return andRules(parts);
}

function conditionMatcher(
  c: Condition,
  td: string,
  mode: Mode,
): { side: 'principal' | 'permission'; f: (v: string) => PrincipalJson | PermissionJson } {
  const k = c.key;
  const header = /^request\.headers\[(.+)\]$/.exec(k);
  const claim = /^request\.auth\.claims\[(.+)\]$/.exec(k);
  const httpOnlyKey = header || k.startsWith('request.auth.');
  if (httpOnlyKey && mode === 'tcp') throw new HttpOnly();
  if (header) return { side: 'principal', f: (v) => headerPrincipal(header[1]!.toLowerCase(), wildcard(v)) };
  if (claim)
    return {
      side: 'principal',
      f: (v) => authnMetadata(`request.auth.claims.${claim[1]}`, { exact: v }, true),
    };
  switch (k) {
    case 'source.ip':
      return { side: 'principal', f: (v) => ({ directRemoteIp: cidr(v) }) };
    case 'remote.ip':
      return { side: 'principal', f: (v) => ({ remoteIp: cidr(v) }) };
    case 'source.namespace':
      return { side: 'principal', f: namespaceMatcher };
    case 'source.principal':
      return { side: 'principal', f: principalMatcher };
    case 'request.auth.principal':
      return { side: 'principal', f: (v) => authnMetadata('request.auth.principal', wildcard(v)) };
    case 'request.auth.audiences':
      return { side: 'principal', f: (v) => authnMetadata('request.auth.audiences', wildcard(v), true) };
    case 'request.auth.presenter':
      return { side: 'principal', f: (v) => authnMetadata('request.auth.presenter', wildcard(v)) };
    case 'destination.ip':
      return { side: 'permission', f: (v) => ({ destinationIp: cidr(v) }) };
    case 'destination.port':
      return { side: 'permission', f: portPermission };
    case 'connection.sni':
      return { side: 'permission', f: (v) => ({ requestedServerName: wildcard(v) }) as PermissionJson };
  }
  void td;
  throw new Error(`unsupported condition key ${k}`);
}

/** One Istio rule → one Envoy policy, or undefined when the rule can never match in this mode. */
function translateRule(rule: Rule, mode: Mode, td: string, action: 'ALLOW' | 'DENY' | 'AUDIT') {
  const dropHttpOnly = <T>(build: () => T, fallback: T | undefined): T | undefined => {
    try {
      return build();
    } catch (e) {
      if (!(e instanceof HttpOnly)) throw e;
      // TCP: an ALLOW rule needing HTTP attributes matches nothing; a DENY/AUDIT rule ignores them.
      return action === 'ALLOW' ? undefined : fallback;
    }
  };
  const froms: PrincipalJson[] = [];
  for (const f of rule.from ?? []) {
    const p = dropHttpOnly(() => fromPrincipal(f.source ?? {}, mode, td), anyPrincipal());
    if (p === undefined) return undefined;
    froms.push(p);
  }
  const tos: PermissionJson[] = [];
  for (const t of rule.to ?? []) {
    const p = dropHttpOnly(() => toPermission(t.operation ?? {}, mode), anyPermission());
    if (p === undefined) return undefined;
    tos.push(p);
  }
  const principalParts: PrincipalJson[] = froms.length > 0 ? [orIds(froms)] : [];
  const permissionParts: PermissionJson[] = tos.length > 0 ? [orRules(tos)] : [];
  for (const c of rule.when ?? []) {
    const m = dropHttpOnly(() => conditionMatcher(c, td, mode), null);
    if (m === undefined) return undefined;
    if (m === null) continue;
    if (!SOURCE_KEYS.test(c.key) && !DEST_KEYS.test(c.key))
      throw new Error(`unsupported condition key ${c.key}`);
    const pos = (c.values ?? []).map(m.f);
    const neg = (c.notValues ?? []).map(m.f);
    if (m.side === 'principal') {
      if (pos.length) principalParts.push(orIds(pos as PrincipalJson[]));
      if (neg.length) principalParts.push({ notId: orIds(neg as PrincipalJson[]) });
    } else {
      if (pos.length) permissionParts.push(orRules(pos as PermissionJson[]));
      if (neg.length) permissionParts.push({ notRule: orRules(neg as PermissionJson[]) });
    }
  }
  return { permissions: [andRules(permissionParts)], principals: [andIds(principalParts)] };
}

/** Translates the AuthorizationPolicies (attached to `o.workload` when given) into RBAC filters. */
export function translateAuthorizationPolicies(
  all: AuthorizationPolicy[],
  o: AuthzOptions,
): AuthzTranslation {
  const root = o.rootNamespace ?? DEFAULT_ROOT_NAMESPACE;
  const policies = [...all]
    .filter((p) => !o.workload || policyApplies(p, o.workload, root))
    .sort(oldestFirst);
  const problems: SecurityProblem[] = [];
  const out = { http: new Map<RbacAction, RbacRulesJson>(), tcp: new Map<RbacAction, RbacRulesJson>() };
  for (const p of policies) {
    const id = `${p.metadata.namespace ?? 'default'}/${p.metadata.name}`;
    const action = p.spec.action ?? 'ALLOW';
    if (action === 'CUSTOM') {
      problems.push({
        object: `AuthorizationPolicy ${id}`,
        path: 'spec.action',
        reason: 'CUSTOM (external authorization) is not supported by Skein; the policy is ignored',
        severity: 'warning',
      });
      continue;
    }
    const envoyAction: RbacAction = action === 'AUDIT' ? 'LOG' : action;
    for (const mode of ['http', 'tcp'] as const) {
      const rules = out[mode].get(envoyAction) ?? { action: envoyAction, policies: {} };
      out[mode].set(envoyAction, rules);
      (p.spec.rules ?? []).forEach((rule, i) => {
        let policy;
        try {
          policy = translateRule(rule, mode, o.trustDomain, action);
        } catch (e) {
          if (mode === 'http') {
            problems.push({
              object: `AuthorizationPolicy ${id}`,
              path: `spec.rules[${i}]`,
              reason: (e as Error).message,
              severity: 'error',
            });
          }
          // A rule we cannot read: ALLOW drops it, DENY matches everything (fail closed).
          policy =
            action === 'DENY' ? { permissions: [anyPermission()], principals: [anyPrincipal()] } : undefined;
        }
        if (policy)
          rules.policies[`ns[${p.metadata.namespace ?? 'default'}]-policy[${p.metadata.name}]-rule[${i}]`] =
            policy;
      });
    }
  }
  const order: RbacAction[] = ['LOG', 'DENY', 'ALLOW'];
  const filters = (mode: Mode, type: string, name: string): RbacFilter[] =>
    order
      .filter((a) => out[mode].has(a))
      .map((a) => ({
        name,
        typedConfig: {
          '@type': type,
          rules: out[mode].get(a)!,
          ...(mode === 'tcp' ? { statPrefix: 'tcp.' } : {}),
        },
      }));
  return {
    httpFilters: filters('http', HTTP_RBAC, 'envoy.filters.http.rbac'),
    networkFilters: filters('tcp', NET_RBAC, 'envoy.filters.network.rbac'),
    problems,
  };
}
