// RDS for sidecars: one RouteConfiguration per outbound HTTP listener, with a virtual host per
// service (domains: FQDN, short forms, VIPs, each with and without the port) and the catch-all
// virtual host that passes unknown hosts through (ALLOW_ANY) or answers 502 (REGISTRY_ONLY).
import type { routeComponentsV3, routeV3 } from '@skein/api-types';
import { DOMAIN_SUFFIX } from '../model/hosts.js';
import { virtualServiceFor } from '../model/snapshot.js';
import type { Service, ServicePort } from '../model/services.js';
import type { TranslateContext } from './context.js';
import { httpRoutes } from './http-routes.js';
import { PASSTHROUGH_CLUSTER } from './names.js';
import { outboundPlan } from './outbound-plan.js';
import { proxyClassKey } from './proxy-class.js';
import { routeDelta } from './route-delta.js';
import { virtualHostKey } from './vhost-memo.js';

type RouteConfigJson = routeV3.RouteConfigurationJson;
type VirtualHostJson = routeComponentsV3.VirtualHostJson;

/** Every name a client in `proxyNs` may use for a service port. */
export function serviceDomains(s: Service, port: number, proxyNs: string): string[] {
  const names = [s.hostname];
  const suffix = `.${s.namespace}.${DOMAIN_SUFFIX}`;
  if (s.hostname.endsWith(suffix)) {
    const short = s.hostname.slice(0, -suffix.length);
    names.push(`${short}.${s.namespace}`, `${short}.${s.namespace}.svc`);
    if (proxyNs === s.namespace) names.push(short);
  }
  names.push(...s.addresses.filter((a) => !a.includes('/')));
  return names.flatMap((n) => [n, `${n}:${port}`]);
}

/** The catch-all virtual hosts: constants, so every class and push shares (and encodes) one. */
const BLOCK_ALL: VirtualHostJson = {
  name: 'block_all',
  domains: ['*'],
  routes: [{ name: 'block_all', match: { prefix: '/' }, directResponse: { status: 502 } }],
};
const ALLOW_ANY: VirtualHostJson = {
  name: 'allow_any',
  domains: ['*'],
  routes: [
    { name: 'allow_any', match: { prefix: '/' }, route: { cluster: PASSTHROUGH_CLUSTER, timeout: '0s' } },
  ],
};

const domainLists = new WeakMap<Service, Map<string, readonly string[]>>();

/**
 * `serviceDomains` computed once per service object, port and whether the proxy shares the
 * service's namespace (all it depends on): every class of a snapshot shares the same strings.
 */
function serviceDomainsOf(s: Service, port: number, proxyNs: string): readonly string[] {
  let byPort = domainLists.get(s);
  if (!byPort) domainLists.set(s, (byPort = new Map()));
  const same = proxyNs === s.namespace;
  const key = same ? `${port}` : `${port}-`;
  let list = byPort.get(key);
  if (!list) byPort.set(key, (list = serviceDomains(s, port, proxyNs)));
  return list;
}

function catchAllHost(ctx: TranslateContext): VirtualHostJson {
  return ctx.scope.outboundTrafficPolicy === 'REGISTRY_ONLY' ? BLOCK_ALL : ALLOW_ANY;
}

export function virtualHost(
  ctx: TranslateContext,
  s: Service,
  port: ServicePort,
  used: Set<string>,
): VirtualHostJson | undefined {
  const all = serviceDomainsOf(s, port.number, ctx.proxy.namespace);
  const domains = all.some((d) => used.has(d)) ? all.filter((d) => !used.has(d)) : all;
  if (domains.length === 0) return undefined;
  for (const d of domains) used.add(d);
  const vh = routedHost(ctx, s, port, domains);
  origins.set(vh, { s, port });
  return vh;
}

/** The service port each generated virtual host serves (to regenerate it in a later snapshot). */
const origins = new WeakMap<VirtualHostJson, { s: Service; port: ServicePort }>();

/** A service port's virtual host with the given domains, through the memo when there is one. */
function routedHost(
  ctx: TranslateContext,
  s: Service,
  port: ServicePort,
  domains: readonly string[],
): VirtualHostJson {
  const vs = virtualServiceFor(ctx.snapshot, s.hostname, ctx.proxy.namespace);
  const make = (): VirtualHostJson => ({
    name: `${s.hostname}:${port.number}`,
    domains: [...domains],
    routes: httpRoutes(ctx, vs, s, port, { grpc: false }),
    includeRequestAttemptCount: true,
  });
  const memo = ctx.virtualHosts;
  return memo ? memo.get(virtualHostKey(ctx.snapshot, ctx.proxy, s, port, domains, vs), make) : make();
}

export function outboundRouteConfig(
  ctx: TranslateContext,
  name: string,
  port: number,
  services: readonly Service[],
): RouteConfigJson {
  const used = new Set<string>();
  const hosts: VirtualHostJson[] = [];
  for (const s of [...services].sort((a, b) => (a.hostname < b.hostname ? -1 : 1))) {
    const p = s.ports.find((x) => x.number === port);
    if (!p) continue;
    const vh = virtualHost(ctx, s, p, used);
    if (vh) hosts.push(vh);
  }
  hosts.push(catchAllHost(ctx));
  return { name, virtualHosts: hosts, validateClusters: false };
}

/**
 * Every outbound route configuration of a sidecar. Listeners sharing a route name (the wildcard
 * `0.0.0.0_<port>` and sniffed `<vip>_<port>` listeners) share one configuration over all their
 * services.
 */
export function sidecarRouteConfigs(ctx: TranslateContext): RouteConfigJson[] {
  const memo = ctx.virtualHosts;
  if (!memo) return computeRouteConfigs(ctx);
  const key = proxyClassKey(ctx);
  const prev = memo.classes.peek(key);
  let configs: RouteConfigJson[] | undefined;
  if (prev?.snapshot === ctx.snapshot) configs = [...prev.configs];
  else if (prev) {
    const delta = routeDelta(prev.snapshot, ctx.snapshot);
    if (!delta.all) configs = patchRouteConfigs(ctx, prev.configs, delta.hosts);
  }
  configs ??= computeRouteConfigs(ctx);
  memo.classes.set(key, { snapshot: ctx.snapshot, configs });
  return configs;
}

/**
 * Where each service host's virtual hosts sit in a route configuration's list (positions by
 * hostname), or null when a virtual host's origin is unknown. Computed once per configuration and
 * handed on to its patched successors, whose hosts sit at the same positions.
 */
const hostIndexes = new WeakMap<RouteConfigJson, ReadonlyMap<string, readonly number[]> | null>();

function hostIndex(rc: RouteConfigJson): ReadonlyMap<string, readonly number[]> | null {
  const known = hostIndexes.get(rc);
  if (known !== undefined) return known;
  let index: Map<string, number[]> | null = new Map();
  const hosts = rc.virtualHosts ?? [];
  for (let i = 0; i < hosts.length && index; i++) {
    const vh = hosts[i] as VirtualHostJson;
    const origin = origins.get(vh);
    if (!origin) {
      if (vh !== ALLOW_ANY && vh !== BLOCK_ALL) index = null;
      continue;
    }
    const at = index.get(origin.s.hostname);
    if (at) at.push(i);
    else index.set(origin.s.hostname, [i]);
  }
  hostIndexes.set(rc, index);
  return index;
}

/**
 * A class's previous route configurations with the virtual hosts of `dirty` hosts regenerated.
 * Valid when `routeDelta` names the hosts (services, scope and domains are then unchanged, so the
 * same virtual hosts exist in the same order with the same domains); undefined when a virtual host's
 * origin is unknown (then everything is recomputed). Only the dirty hosts' positions are visited
 * (a change to one service does not walk the thousand virtual hosts beside it).
 */
function patchRouteConfigs(
  ctx: TranslateContext,
  prev: readonly RouteConfigJson[],
  dirty: ReadonlySet<string>,
): RouteConfigJson[] | undefined {
  const out: RouteConfigJson[] = [];
  for (const rc of prev) {
    const index = hostIndex(rc);
    if (index === null) return undefined;
    let hosts: VirtualHostJson[] | undefined;
    for (const host of dirty) {
      for (const i of index.get(host) ?? []) {
        const vh = rc.virtualHosts?.[i];
        const origin = vh && origins.get(vh);
        if (!vh || !origin) return undefined;
        const next = routedHost(ctx, origin.s, origin.port, vh.domains ?? []);
        origins.set(next, origin);
        if (next === vh) continue;
        hosts ??= [...(rc.virtualHosts ?? [])];
        hosts[i] = next;
      }
    }
    if (!hosts) out.push(rc);
    else {
      const next = { ...rc, virtualHosts: hosts };
      hostIndexes.set(next, index);
      patches.set(next, {
        prev: rc,
        changed: hosts.flatMap((vh, i) => (vh === rc.virtualHosts?.[i] ? [] : [i])),
      });
      out.push(next);
    }
  }
  return out;
}

/** A patched route configuration's predecessor and the positions of its replaced virtual hosts. */
const patches = new WeakMap<RouteConfigJson, { prev: RouteConfigJson; changed: readonly number[] }>();

/**
 * The configuration `rc` was patched from and the positions whose virtual hosts differ (the rest
 * are the same objects, in the same places), when it was patched.
 */
export function patchedFrom(
  rc: RouteConfigJson,
): { readonly prev: RouteConfigJson; readonly changed: readonly number[] } | undefined {
  return patches.get(rc);
}

function computeRouteConfigs(ctx: TranslateContext): RouteConfigJson[] {
  const byName = new Map<string, { port: number; services: Service[]; seen: Set<Service> }>();
  for (const plan of outboundPlan(ctx)) {
    if (!plan.http) continue;
    const entry = byName.get(plan.routeName) ?? { port: plan.port, services: [], seen: new Set() };
    for (const s of plan.services)
      if (!entry.seen.has(s)) {
        entry.seen.add(s);
        entry.services.push(s);
      }
    byName.set(plan.routeName, entry);
  }
  return [...byName.entries()]
    .map(([name, e]) => outboundRouteConfig(ctx, name, e.port, e.services))
    .sort((a, b) => ((a.name ?? '') < (b.name ?? '') ? -1 : 1));
}
