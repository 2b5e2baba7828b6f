// Building blocks of Envoy RBAC (canonical JSON) from Istio's AuthorizationPolicy values: Istio's
// wildcard strings ("*", "prefix*", "*suffix"), SPIFFE principals, namespaces, CIDRs, hosts, paths.
import type { rbacV3 } from '@skein/api-types';

export type PermissionJson = rbacV3.PermissionJson;
export type PrincipalJson = rbacV3.PrincipalJson;
export type StringMatcherJson = {
  exact?: string;
  prefix?: string;
  suffix?: string;
  safeRegex?: { regex: string };
  ignoreCase?: boolean;
};

/** Istio's wildcard value → an Envoy string matcher; `transform` adjusts the literal part. */
export function wildcard(
  v: string,
  transform: (s: string) => string = (s) => s,
  ignoreCase = false,
): StringMatcherJson {
  const ic = ignoreCase ? { ignoreCase: true } : {};
  if (v === '*') return { safeRegex: { regex: '.+' } };
  if (v.endsWith('*')) return { prefix: transform(v.slice(0, -1)), ...ic };
  if (v.startsWith('*')) return { suffix: v.slice(1), ...ic };
  return { exact: transform(v), ...ic };
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export const anyPrincipal = (): PrincipalJson => ({ any: true });
export const anyPermission = (): PermissionJson => ({ any: true });

export function orIds(ids: PrincipalJson[]): PrincipalJson {
  return ids.length === 1 ? ids[0]! : { orIds: { ids } };
}
export function andIds(ids: PrincipalJson[]): PrincipalJson {
  return ids.length === 0 ? anyPrincipal() : ids.length === 1 ? ids[0]! : { andIds: { ids } };
}
export function orRules(rules: PermissionJson[]): PermissionJson {
  return rules.length === 1 ? rules[0]! : { orRules: { rules } };
}
export function andRules(rules: PermissionJson[]): PermissionJson {
  return rules.length === 0 ? anyPermission() : rules.length === 1 ? rules[0]! : { andRules: { rules } };
}

/** principals: "td/ns/x/sa/y" (with wildcards) matched against spiffe://<value>. */
export function principalMatcher(v: string): PrincipalJson {
  return { authenticated: { principalName: wildcard(v, (s) => `spiffe://${s}`) } };
}

/** namespaces: the /ns/<namespace>/ segment of the peer's SPIFFE ID. */
export function namespaceMatcher(v: string): PrincipalJson {
  if (v === '*') return { authenticated: { principalName: { safeRegex: { regex: '.+' } } } };
  const part = v.endsWith('*')
    ? `${escapeRe(v.slice(0, -1))}[^/]*`
    : v.startsWith('*')
      ? `[^/]*${escapeRe(v.slice(1))}`
      : escapeRe(v);
  return { authenticated: { principalName: { safeRegex: { regex: `.*/ns/${part}/.*` } } } };
}

/** serviceAccounts: "ns/sa" → exact SPIFFE ID in the trust domain. */
export function serviceAccountMatcher(v: string, trustDomain: string): PrincipalJson {
  const [ns, sa] = v.includes('/') ? v.split('/', 2) : ['*', v];
  return { authenticated: { principalName: { exact: `spiffe://${trustDomain}/ns/${ns}/sa/${sa}` } } };
}

export function cidr(v: string): { addressPrefix: string; prefixLen: number } {
  const [addr, len] = v.split('/');
  return {
    addressPrefix: addr!,
    prefixLen: len !== undefined ? Number(len) : addr!.includes(':') ? 128 : 32,
  };
}

/** request.auth.* values live in the metadata the JWT filter writes (filter istio_authn). */
export function authnMetadata(key: string, m: StringMatcherJson, list = false): PrincipalJson {
  return {
    metadata: {
      filter: 'istio_authn',
      path: [{ key }],
      value: list ? { listMatch: { oneOf: { stringMatch: m } } } : { stringMatch: m },
    },
  } as PrincipalJson;
}

export function headerPrincipal(name: string, m: StringMatcherJson): PrincipalJson {
  return { header: { name, stringMatch: m } } as PrincipalJson;
}

/** hosts: the :authority, case-insensitively, with or without a port. */
export function hostPermission(v: string): PermissionJson {
  const m = wildcard(v, (s) => s, true);
  const rules: PermissionJson[] = [{ header: { name: ':authority', stringMatch: m } } as PermissionJson];
  if (m.exact !== undefined) {
    rules.push({
      header: { name: ':authority', stringMatch: { prefix: `${m.exact}:`, ignoreCase: true } },
    } as PermissionJson);
  }
  return orRules(rules);
}

export function methodPermission(v: string): PermissionJson {
  return { header: { name: ':method', stringMatch: wildcard(v) } } as PermissionJson;
}

export function pathPermission(v: string): PermissionJson {
  const m = v === '*' ? { prefix: '/' } : wildcard(v);
  return { urlPath: { path: m } } as PermissionJson;
}

export function portPermission(v: string): PermissionJson {
  return { destinationPort: Number(v) };
}
