// A small route/cluster evaluator over generated xDS, for behavioural tests that survive
// refactors: "this request, from this proxy, on this port, lands on that cluster".
import { re2 } from '@skein/api-types';
import type { Generated } from './translate.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface HttpRequest {
  /** Listener port (or `address:port` for bound listeners). */
  readonly port: number;
  readonly address?: string;
  readonly authority: string;
  readonly path?: string;
  readonly method?: string;
  readonly headers?: Record<string, string>;
}

export interface HttpOutcome {
  readonly virtualHost: string;
  readonly route: string;
  /** cluster → share (0..1) */
  readonly clusters: Record<string, number>;
  readonly redirect?: Json;
  readonly directResponse?: Json;
  readonly action?: Json;
  readonly route_: Json;
}

function stringMatches(m: Json, value: string | undefined): boolean {
  if (value === undefined) return false;
  const v = m['ignoreCase'] ? value.toLowerCase() : value;
  if (m['exact'] !== undefined)
    return v === (m['ignoreCase'] ? String(m['exact']).toLowerCase() : m['exact']);
  if (m['prefix'] !== undefined)
    return v.startsWith(m['ignoreCase'] ? String(m['prefix']).toLowerCase() : m['prefix']);
  if (m['safeRegex']) return re2(m['safeRegex'].regex).fullMatch(value);
  return true;
}

function headerMatches(h: Json, headers: Record<string, string>): boolean {
  const value = headers[h['name']];
  let ok: boolean;
  if (h['presentMatch']) ok = value !== undefined;
  else if (h['stringMatch']) ok = stringMatches(h['stringMatch'], value);
  else ok = value !== undefined;
  return h['invertMatch'] ? !ok : ok;
}

function routeMatches(m: Json, req: HttpRequest): boolean {
  const full = req.path ?? '/';
  const [path = '/', query = ''] = full.split('?');
  if (m['path'] !== undefined && path !== m['path']) return false;
  if (m['prefix'] !== undefined && !path.startsWith(m['prefix'])) return false;
  if (m['safeRegex'] && !re2(m['safeRegex'].regex).fullMatch(path)) return false;
  const headers: Record<string, string> = {
    ':method': req.method ?? 'GET',
    ':authority': req.authority,
    ...req.headers,
  };
  for (const h of m['headers'] ?? []) if (!headerMatches(h, headers)) return false;
  const params = new URLSearchParams(query);
  for (const q of m['queryParameters'] ?? []) {
    const v = params.get(q['name']) ?? undefined;
    if (q['presentMatch'] ? v === undefined : !stringMatches(q['stringMatch'] ?? {}, v)) return false;
  }
  return true;
}

function pickVirtualHost(hosts: Json[], authority: string): Json | undefined {
  const exact = hosts.find((h) => (h['domains'] as string[]).includes(authority));
  if (exact) return exact;
  const suffix = hosts.find((h) =>
    (h['domains'] as string[]).some((d) => d.startsWith('*') && d !== '*' && authority.endsWith(d.slice(1))),
  );
  return suffix ?? hosts.find((h) => (h['domains'] as string[]).includes('*'));
}

/** Evaluates an HTTP request against a sidecar's (or gRPC client's) generated config. */
export function simulateHttp(gen: Generated, req: HttpRequest): HttpOutcome {
  const listener = gen.listeners.find((l: Json) => {
    const sa = l['address']?.socketAddress;
    return (
      sa?.portValue === req.port &&
      (req.address === undefined || sa?.address === req.address) &&
      l['trafficDirection'] === 'OUTBOUND'
    );
  }) as Json | undefined;
  let routeName: string | undefined;
  if (listener) routeName = JSON.stringify(listener).match(/"routeConfigName":"([^"]+)"/)?.[1];
  else
    routeName = gen.listeners
      .map((l: Json) => JSON.stringify(l).match(/"routeConfigName":"([^"]+)"/)?.[1])
      .find((n) => n !== undefined);
  if (!routeName) throw new Error(`no HTTP listener on port ${req.port}`);
  const rc = gen.routes.find((r: Json) => r['name'] === routeName) as Json | undefined;
  if (!rc) throw new Error(`route configuration ${routeName} not generated`);
  const vh = pickVirtualHost(rc['virtualHosts'], req.authority);
  if (!vh) throw new Error(`no virtual host for ${req.authority}`);
  const route = (vh['routes'] as Json[]).find((r) => routeMatches(r['match'], req));
  if (!route) throw new Error(`no route matches ${req.method ?? 'GET'} ${req.path ?? '/'}`);
  const clusters: Record<string, number> = {};
  const action = route['route'];
  if (action?.cluster) clusters[action.cluster] = 1;
  if (action?.weightedClusters) {
    const list = action.weightedClusters.clusters as Json[];
    const total = list.reduce((s, c) => s + (c['weight'] ?? 0), 0);
    for (const c of list) clusters[c['name']] = (clusters[c['name']] ?? 0) + (c['weight'] ?? 0) / total;
  }
  return {
    virtualHost: vh['name'],
    route: route['name'],
    clusters,
    redirect: route['redirect'],
    directResponse: route['directResponse'],
    action,
    route_: route,
  };
}

/** The endpoints (`ip:port`) a cluster sends to, from its EDS or inline assignment. */
export function clusterEndpoints(gen: Generated, cluster: string): string[] {
  const c = gen.clusters.find((x: Json) => x['name'] === cluster) as Json | undefined;
  if (!c) throw new Error(`cluster ${cluster} not generated`);
  const cla = (
    c['type'] === 'EDS'
      ? gen.endpoints.find((e: Json) => e['clusterName'] === (c['edsClusterConfig']?.serviceName ?? cluster))
      : c['loadAssignment']
  ) as Json | undefined;
  return ((cla?.['endpoints'] ?? []) as Json[]).flatMap((g) =>
    (g['lbEndpoints'] as Json[]).map(
      (e) =>
        `${e['endpoint'].address.socketAddress.address}:${e['endpoint'].address.socketAddress.portValue}`,
    ),
  );
}
