// Resolves a matched route's action for one request: the target cluster (single, header-named or
// weighted), path and host rewrites, timeout and hash key. Pure over the request view.
import { re2, type routeComponentsV3 } from '@skein/api-types';
import { durationMs } from '../util/duration.js';
import { fnv1a } from '../cluster/hash.js';
import type { RequestView } from './route-table.js';

export interface ChosenCluster {
  name: string;
  weighted?: routeComponentsV3.WeightedCluster_ClusterWeightJson;
}

/** The cluster for this request; weighted clusters split by relative weight. */
export function chooseCluster(
  action: routeComponentsV3.RouteActionJson,
  req: RequestView,
  random: () => number = Math.random,
): ChosenCluster | undefined {
  if (action.cluster) return { name: action.cluster };
  if (action.clusterHeader) {
    const v = req.header(action.clusterHeader.toLowerCase());
    return v ? { name: v } : undefined;
  }
  const list = action.weightedClusters?.clusters ?? [];
  const total = list.reduce((a, c) => a + (c.weight ?? 0), 0);
  if (list.length === 0 || total <= 0) return undefined;
  let r = random() * total;
  for (const c of list) {
    r -= c.weight ?? 0;
    if (r < 0 && c.name) return { name: c.name, weighted: c };
  }
  const last = list[list.length - 1];
  return last?.name ? { name: last.name, weighted: last } : undefined;
}

/** The upstream path after prefix or regex rewrite (the query string is kept). */
export function rewritePath(
  action: routeComponentsV3.RouteActionJson,
  match: routeComponentsV3.RouteMatchJson | undefined,
  path: string,
): string {
  const q = path.indexOf('?');
  const p = q < 0 ? path : path.slice(0, q);
  const query = q < 0 ? '' : path.slice(q);
  if (action.prefixRewrite !== undefined) {
    const prefix = match?.prefix ?? match?.pathSeparatedPrefix ?? match?.path;
    if (prefix !== undefined && p.startsWith(prefix)) {
      const np = action.prefixRewrite + p.slice(prefix.length);
      return (np === '' ? '/' : np) + query;
    }
  }
  if (action.regexRewrite?.pattern?.regex !== undefined) {
    const re = re2(action.regexRewrite.pattern.regex);
    return re.replaceAll(p, action.regexRewrite.substitution ?? '') + query;
  }
  return path;
}

/** Route timeout in ms: Envoy's default is 15 s; 0 disables it. */
export function routeTimeoutMs(action: routeComponentsV3.RouteActionJson, req: RequestView): number {
  const hdr = req.header('x-envoy-upstream-rq-timeout-ms');
  if (hdr && /^\d+$/.test(hdr)) return Number(hdr);
  const t = durationMs(action.timeout);
  return t ?? 15_000;
}

/** The request's hash for ring hash / Maglev from the first hash policy that yields a value. */
export function requestHash(
  action: routeComponentsV3.RouteActionJson,
  req: RequestView,
  sourceIp: string,
): number | undefined {
  const policies = action.hashPolicy;
  if (policies === undefined) return undefined;
  let acc: number | undefined;
  for (const hp of policies) {
    let v: string | undefined;
    if (hp.header?.headerName) v = req.header(hp.header.headerName.toLowerCase());
    else if (hp.cookie?.name) {
      const cookies = req.header('cookie') ?? '';
      const name = hp.cookie.name;
      for (const part of cookies.split(';')) {
        const [k, ...rest] = part.trim().split('=');
        if (k === name) v = rest.join('=');
      }
    } else if (hp.connectionProperties?.sourceIp) v = sourceIp;
    else if (hp.queryParameter?.name) {
      const q = req.path.indexOf('?');
      v = new URLSearchParams(q < 0 ? '' : req.path.slice(q + 1)).get(hp.queryParameter.name) ?? undefined;
    }
    if (v !== undefined) {
      const h = fnv1a(v);
      acc = acc === undefined ? h : (Math.imul(acc, 31) + h) >>> 0;
      if (hp.terminal) break;
    }
  }
  return acc;
}
