// Evaluating Envoy RBAC rules (canonical JSON) against a request or connection: the semantics a
// proxy's RBAC filters enforce, shared so translation tests can assert behaviour ("GET /admin from
// ns foo is denied") rather than shape. Regexes are RE2.
import { BlockList, isIP } from 'node:net';
import { re2, type Re2 } from '@skein/api-types';
import type { PermissionJson, PrincipalJson, StringMatcherJson } from './rbac-builders.js';
import type { RbacRulesJson } from './authorization-policy.js';

/** What is known about a request (HTTP) or connection (TCP, no headers). */
export interface RbacRequest {
  /** The peer's address (the downstream connection). */
  directRemoteIp?: string;
  /** The original client (x-forwarded-for aware); defaults to directRemoteIp. */
  remoteIp?: string;
  destinationIp?: string;
  destinationPort?: number;
  /** The peer's verified SPIFFE URI (mTLS). */
  principal?: string;
  sni?: string;
  /** Lower-case header names, including :authority, :method, :path. */
  headers?: Record<string, string>;
  /** Dynamic metadata by filter name (e.g. istio_authn written by the JWT filter). */
  metadata?: Record<string, Record<string, unknown>>;
}

export interface RbacDecision {
  allowed: boolean;
  /** The policy that matched in the deciding filter, if any. */
  policy?: string;
  /** Index of the filter that denied. */
  deniedBy?: number;
}

const regexCache = new Map<string, Re2>();
function regex(r: string): Re2 {
  let c = regexCache.get(r);
  if (!c) regexCache.set(r, (c = re2(r)));
  return c;
}

export function stringMatches(
  m: StringMatcherJson & { contains?: string },
  value: string | undefined,
): boolean {
  if (value === undefined) return false;
  const v = m.ignoreCase ? value.toLowerCase() : value;
  const s = (x: string) => (m.ignoreCase ? x.toLowerCase() : x);
  if (m.exact !== undefined) return v === s(m.exact);
  if (m.prefix !== undefined) return v.startsWith(s(m.prefix));
  if (m.suffix !== undefined) return v.endsWith(s(m.suffix));
  if (m.contains !== undefined) return v.includes(s(m.contains));
  if (m.safeRegex) return regex(m.safeRegex.regex).fullMatch(value);
  return false;
}

function inCidr(
  c: { addressPrefix?: string; prefixLen?: number } | undefined,
  ip: string | undefined,
): boolean {
  if (!c?.addressPrefix || !ip) return false;
  const fam = isIP(c.addressPrefix) === 6 ? 'ipv6' : 'ipv4';
  if ((isIP(ip) === 6 ? 'ipv6' : 'ipv4') !== fam) return false;
  const b = new BlockList();
  b.addSubnet(c.addressPrefix, c.prefixLen ?? (fam === 'ipv6' ? 128 : 32), fam);
  return b.check(ip, fam);
}

type HeaderMatcher = {
  name?: string;
  exactMatch?: string;
  prefixMatch?: string;
  suffixMatch?: string;
  presentMatch?: boolean;
  stringMatch?: StringMatcherJson;
  invertMatch?: boolean;
};
function headerMatches(h: HeaderMatcher, req: RbacRequest): boolean {
  const v = req.headers?.[(h.name ?? '').toLowerCase()];
  let r: boolean;
  if (h.presentMatch !== undefined) r = (v !== undefined) === h.presentMatch;
  else if (h.exactMatch !== undefined) r = v === h.exactMatch;
  else if (h.prefixMatch !== undefined) r = v !== undefined && v.startsWith(h.prefixMatch);
  else if (h.suffixMatch !== undefined) r = v !== undefined && v.endsWith(h.suffixMatch);
  else if (h.stringMatch) r = stringMatches(h.stringMatch, v);
  else r = v !== undefined;
  return h.invertMatch ? !r : r;
}

type MetadataMatcher = {
  filter?: string;
  path?: { key?: string }[];
  value?: { stringMatch?: StringMatcherJson; listMatch?: { oneOf?: { stringMatch?: StringMatcherJson } } };
  invert?: boolean;
};
function metadataMatches(m: MetadataMatcher, req: RbacRequest): boolean {
  let v: unknown = req.metadata?.[m.filter ?? ''];
  for (const seg of m.path ?? [])
    v = v && typeof v === 'object' ? (v as Record<string, unknown>)[seg.key ?? ''] : undefined;
  let r = false;
  if (m.value?.stringMatch) r = typeof v === 'string' && stringMatches(m.value.stringMatch, v);
  else if (m.value?.listMatch?.oneOf?.stringMatch) {
    const sm = m.value.listMatch.oneOf.stringMatch;
    r = Array.isArray(v) && v.some((x) => typeof x === 'string' && stringMatches(sm, x));
  }
  return m.invert ? !r : r;
}

function pathOf(req: RbacRequest): string | undefined {
  const p = req.headers?.[':path'];
  return p === undefined ? undefined : p.split('?')[0];
}

export function permissionMatches(p: PermissionJson, req: RbacRequest): boolean {
  if (p.any) return true;
  if (p.andRules) return (p.andRules.rules ?? []).every((r) => permissionMatches(r, req));
  if (p.orRules) return (p.orRules.rules ?? []).some((r) => permissionMatches(r, req));
  if (p.notRule) return !permissionMatches(p.notRule, req);
  if (p.header) return headerMatches(p.header as HeaderMatcher, req);
  if (p.urlPath) return stringMatches((p.urlPath as { path?: StringMatcherJson }).path ?? {}, pathOf(req));
  if (p.destinationIp) return inCidr(p.destinationIp, req.destinationIp);
  if (p.destinationPort !== undefined) return req.destinationPort === p.destinationPort;
  if (p.requestedServerName) return stringMatches(p.requestedServerName as StringMatcherJson, req.sni);
  if (p.metadata) return metadataMatches(p.metadata as MetadataMatcher, req);
  return false;
}

export function principalMatches(p: PrincipalJson, req: RbacRequest): boolean {
  if (p.any) return true;
  if (p.andIds) return (p.andIds.ids ?? []).every((i) => principalMatches(i, req));
  if (p.orIds) return (p.orIds.ids ?? []).some((i) => principalMatches(i, req));
  if (p.notId) return !principalMatches(p.notId, req);
  if (p.authenticated) {
    const m = p.authenticated.principalName as StringMatcherJson | undefined;
    return req.principal !== undefined && (m === undefined || stringMatches(m, req.principal));
  }
  if (p.directRemoteIp) return inCidr(p.directRemoteIp, req.directRemoteIp);
  if (p.sourceIp) return inCidr(p.sourceIp, req.directRemoteIp);
  if (p.remoteIp) return inCidr(p.remoteIp, req.remoteIp ?? req.directRemoteIp);
  if (p.header) return headerMatches(p.header as HeaderMatcher, req);
  if (p.urlPath) return stringMatches((p.urlPath as { path?: StringMatcherJson }).path ?? {}, pathOf(req));
  if (p.metadata) return metadataMatches(p.metadata as MetadataMatcher, req);
  return false;
}

/** The first matching policy name of one RBAC rule set (policies in name order, as Envoy's map). */
export function matchingPolicy(rules: RbacRulesJson, req: RbacRequest): string | undefined {
  for (const name of Object.keys(rules.policies).sort()) {
    const pol = rules.policies[name]!;
    if (
      pol.permissions.some((x) => permissionMatches(x, req)) &&
      pol.principals.some((x) => principalMatches(x, req))
    ) {
      return name;
    }
  }
  return undefined;
}

/** One filter's verdict: ALLOW lets through only matches, DENY only non-matches, LOG everything. */
export function evaluateRbac(rules: RbacRulesJson, req: RbacRequest): RbacDecision {
  const policy = matchingPolicy(rules, req);
  // Proto3 JSON omits the default action, ALLOW: a missing action allows only what a policy matches.
  const action = rules.action ?? 'ALLOW';
  const allowed = action === 'ALLOW' ? policy !== undefined : action === 'DENY' ? policy === undefined : true;
  return { allowed, ...(policy ? { policy } : {}) };
}

/** A chain of RBAC filters in order: the first denial wins. */
export function evaluateRbacChain(chain: RbacRulesJson[], req: RbacRequest): RbacDecision {
  for (let i = 0; i < chain.length; i++) {
    const d = evaluateRbac(chain[i]!, req);
    if (!d.allowed) return { ...d, deniedBy: i };
  }
  return { allowed: true };
}
