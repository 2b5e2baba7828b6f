// Host names: short-name expansion to FQDNs (as Istio does for names inside a namespace),
// wildcard matching and exportTo visibility.

export const DOMAIN_SUFFIX = 'svc.cluster.local';

/** `reviews` in namespace `default` → `reviews.default.svc.cluster.local`; FQDNs stay. */
export function fqdn(host: string, namespace: string): string {
  if (host === '*' || host.startsWith('*.')) return host;
  if (host.includes('.')) return host;
  return `${host}.${namespace}.${DOMAIN_SUFFIX}`;
}

/** True when `pattern` (possibly `*` or `*.suffix`) covers `host`. */
export function hostMatches(pattern: string, host: string): boolean {
  if (pattern === '*' || pattern === host) return true;
  if (pattern.startsWith('*.')) return host.endsWith(pattern.slice(1));
  return false;
}

/** How specific a pattern is: exact beats longer wildcard beats shorter wildcard. */
export function hostSpecificity(pattern: string): number {
  if (!pattern.startsWith('*')) return 1_000_000 + pattern.length;
  return pattern.length;
}

/** Istio's exportTo: absent or `*` means every namespace, `.` the object's own. */
export function visibleTo(
  exportTo: readonly string[] | undefined,
  ownNamespace: string,
  namespace: string,
): boolean {
  if (!exportTo || exportTo.length === 0) return true;
  return exportTo.some((e) => e === '*' || (e === '.' && ownNamespace === namespace) || e === namespace);
}

/** Labels `sel` are all present in `labels`. An empty selector matches everything. */
export function labelsMatch(
  sel: Readonly<Record<string, string>> | undefined,
  labels: Readonly<Record<string, string>>,
): boolean {
  if (!sel) return true;
  return Object.entries(sel).every(([k, v]) => labels[k] === v);
}
