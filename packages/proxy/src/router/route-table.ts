// A RouteConfiguration compiled for matching: virtual host selection by domain (exact, suffix
// and prefix wildcards, "*", in Envoy's order) and the first route whose match (prefix, path,
// path-separated prefix, RE2 regex, headers, query parameters) accepts the request.
import { re2, type routeV3, type routeComponentsV3 } from '@skein/api-types';
import { compileHeaderMatcher, compileStringMatcher, type HeaderLookup } from './string-matcher.js';

export interface RequestView {
  /** Authority without a default port stripped. */
  host: string;
  /** Path including the query string. */
  path: string;
  method: string;
  header: HeaderLookup;
}

export interface CompiledRoute {
  readonly route: routeComponentsV3.RouteJson;
  matches(req: RequestView, pathOnly: string, query: () => URLSearchParams): boolean;
}

export interface CompiledVirtualHost {
  readonly vhost: routeComponentsV3.VirtualHostJson;
  readonly routes: CompiledRoute[];
}

/** A match result: made once per route at compile time and shared by every request it matches. */
type RouteMatch = { readonly vhost: CompiledVirtualHost; readonly route: CompiledRoute };
type NoRouteMatch = { readonly vhost?: CompiledVirtualHost; readonly route?: undefined };

export interface RouteTable {
  readonly config: routeV3.RouteConfigurationJson;
  selectVirtualHost(host: string): CompiledVirtualHost | undefined;
  match(req: RequestView): RouteMatch | NoRouteMatch;
}

const NO_MATCH: NoRouteMatch = Object.freeze({});
/** Stands in for the query of a virtual host whose routes have no query parameter matcher. */
const NO_QUERY = (): URLSearchParams => new URLSearchParams();

/** A compiled virtual host with what matching needs per request precomputed. */
interface VirtualHostMatcher extends CompiledVirtualHost {
  readonly matches: readonly RouteMatch[];
  readonly noRoute: NoRouteMatch;
  readonly readsQuery: boolean;
}

/** The virtual host of an exact domain, else the longest suffix then prefix wildcard. */
function domainMatch(
  exact: ReadonlyMap<string, VirtualHostMatcher>,
  suffixes: readonly DomainRule[],
  prefixes: readonly DomainRule[],
  h: string,
): VirtualHostMatcher | undefined {
  const e = exact.get(h);
  if (e) return e;
  // Indexed loops: no iterator per request while this runs as unoptimised or Maglev code.
  for (let i = 0; i < suffixes.length; i++) {
    const s = suffixes[i]!;
    if (h.endsWith(s.value) && h.length > s.value.length) return s.vhost;
  }
  for (let i = 0; i < prefixes.length; i++) {
    const p = prefixes[i]!;
    if (h.startsWith(p.value) && h.length > p.value.length) return p.vhost;
  }
  return undefined;
}

/** The request's query parameters, parsed on first use (at most once). */
function lazyQuery(path: string, q: number): () => URLSearchParams {
  let query: URLSearchParams | undefined;
  return () => (query ??= new URLSearchParams(q < 0 ? '' : path.slice(q + 1)));
}

function compileRoute(r: routeComponentsV3.RouteJson): CompiledRoute {
  const m = r.match ?? {};
  const cs = m.caseSensitive !== false;
  const norm = (s: string): string => (cs ? s : s.toLowerCase());
  let pathTest: (p: string) => boolean;
  if (m.prefix !== undefined) {
    const p = norm(m.prefix);
    pathTest = (x) => norm(x).startsWith(p);
  } else if (m.path !== undefined) {
    const p = norm(m.path);
    pathTest = (x) => norm(x) === p;
  } else if (m.pathSeparatedPrefix !== undefined) {
    const p = norm(m.pathSeparatedPrefix);
    pathTest = (x) => {
      const n = norm(x);
      return n === p || n.startsWith(p + '/');
    };
  } else if (m.safeRegex?.regex !== undefined) {
    const re = re2(m.safeRegex.regex);
    pathTest = (x) => re.fullMatch(x);
  } else {
    throw new Error(`route ${r.name ?? ''}: match needs prefix, path, path_separated_prefix or safe_regex`);
  }
  const headers = (m.headers ?? []).map(compileHeaderMatcher);
  const queries = (m.queryParameters ?? []).map((q) => {
    const name = q.name ?? '';
    if (q.presentMatch !== undefined) {
      const want = q.presentMatch;
      return (qs: URLSearchParams) => qs.has(name) === want;
    }
    if (!q.stringMatch) return (qs: URLSearchParams) => qs.has(name);
    const t = compileStringMatcher(q.stringMatch);
    return (qs: URLSearchParams) => {
      const v = qs.get(name);
      return v !== null && t(v);
    };
  });
  const grpc = m.grpc !== undefined;
  return {
    route: r,
    matches(req, pathOnly, query) {
      if (!pathTest(pathOnly)) return false;
      if (grpc && !(req.header('content-type') ?? '').startsWith('application/grpc')) return false;
      if (headers.length > 0) {
        // A view's `header` may be a method: called through the view.
        const lookup = (n: string): string | undefined => req.header(n);
        for (const h of headers) if (!h(lookup)) return false;
      }
      if (queries.length > 0) {
        const qs = query();
        for (const q of queries) if (!q(qs)) return false;
      }
      return true;
    },
  };
}

type DomainRule = { kind: 'exact' | 'suffix' | 'prefix' | 'any'; value: string; vhost: VirtualHostMatcher };

function virtualHostMatcher(vh: routeComponentsV3.VirtualHostJson): VirtualHostMatcher {
  const routes = (vh.routes ?? []).map(compileRoute);
  const compiled = {
    vhost: vh,
    routes,
    matches: [] as RouteMatch[],
    noRoute: NO_MATCH,
    readsQuery: (vh.routes ?? []).some((r) => (r.match?.queryParameters ?? []).length > 0),
  };
  for (const route of routes) compiled.matches.push(Object.freeze({ vhost: compiled, route }));
  compiled.noRoute = Object.freeze({ vhost: compiled });
  return compiled;
}

export function compileRouteTable(config: routeV3.RouteConfigurationJson): RouteTable {
  const rules: DomainRule[] = [];
  for (const vh of config.virtualHosts ?? []) {
    const compiled = virtualHostMatcher(vh);
    for (const d of vh.domains ?? []) {
      const dl = d.toLowerCase();
      if (dl === '*') rules.push({ kind: 'any', value: '', vhost: compiled });
      else if (dl.startsWith('*')) rules.push({ kind: 'suffix', value: dl.slice(1), vhost: compiled });
      else if (dl.endsWith('*')) rules.push({ kind: 'prefix', value: dl.slice(0, -1), vhost: compiled });
      else rules.push({ kind: 'exact', value: dl, vhost: compiled });
    }
  }
  const exact = new Map<string, VirtualHostMatcher>();
  for (const r of rules) if (r.kind === 'exact' && !exact.has(r.value)) exact.set(r.value, r.vhost);
  // Longest wildcard wins, suffix before prefix (Envoy's order).
  const suffixes = rules.filter((r) => r.kind === 'suffix').sort((a, b) => b.value.length - a.value.length);
  const prefixes = rules.filter((r) => r.kind === 'prefix').sort((a, b) => b.value.length - a.value.length);
  const any = rules.find((r) => r.kind === 'any')?.vhost;
  const ignorePort = config.ignorePortInHostMatching === true;

  const selectVirtualHost = (hostIn: string): VirtualHostMatcher | undefined => {
    let host = hostIn.toLowerCase();
    let found = domainMatch(exact, suffixes, prefixes, host);
    if (!found) {
      // A host with a port also matches domains without it.
      const colon = host.lastIndexOf(':');
      if (colon > 0 && !host.endsWith(']')) {
        host = host.slice(0, colon);
        found = domainMatch(exact, suffixes, prefixes, host);
      }
    } else if (ignorePort) found = domainMatch(exact, suffixes, prefixes, host.replace(/:\d+$/, '')) ?? found;
    return found ?? any;
  };

  return {
    config,
    selectVirtualHost,
    match(req) {
      const vhost = selectVirtualHost(req.host);
      if (!vhost) return NO_MATCH;
      const q = req.path.indexOf('?');
      const pathOnly = q < 0 ? req.path : req.path.slice(0, q);
      // Only a virtual host with query parameter matchers gets a (lazy) parser.
      const query = vhost.readsQuery ? lazyQuery(req.path, q) : NO_QUERY;
      const { routes, matches } = vhost;
      for (let i = 0; i < routes.length; i++)
        if (routes[i]!.matches(req, pathOnly, query)) return matches[i]!;
      return vhost.noRoute;
    },
  };
}
