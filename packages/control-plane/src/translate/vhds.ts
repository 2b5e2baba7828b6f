// VHDS (Envoy's Virtual Host Discovery Service, delta xDS only) for sidecars that opt in: each
// RouteConfiguration goes out without its virtual hosts, pointing at VHDS over ADS, and each
// virtual host is its own resource named `<route configuration name>/<virtual host name>` (the
// virtual host name `host:port` is one of its domains, so this is Envoy's `<route config>/<host>`
// convention). A subscription to a route configuration's name is the full set of its virtual
// hosts (what Envoy subscribes to when it receives such a route configuration); a subscription to
// `<route config>/<host>` (Envoy's on-demand request) is the one virtual host serving that host.
import { TypeUrl, type routeComponentsV3, type routeV3 } from '@skein/api-types';
import type { TranslateContext } from './context.js';
import type { Generator, Resource, TypeGenerators } from './generators.js';
import { patchedFrom, sidecarRouteConfigs } from './route-configs.js';

type RouteConfigJson = routeV3.RouteConfigurationJson;
type VirtualHostJson = routeComponentsV3.VirtualHostJson;

export const VIRTUAL_HOST_TYPE = 'type.googleapis.com/envoy.config.route.v3.VirtualHost';

/** Node metadata key (value `"true"`) with which a delta-xDS sidecar asks for VHDS. */
export const VHDS_METADATA_KEY = 'SKEIN_VHDS';

/** The VHDS resource name of a virtual host of a route configuration. */
export const vhdsResourceName = (routeConfig: string, virtualHost: string): string =>
  `${routeConfig}/${virtualHost}`;

/**
 * A VHDS name split into route configuration and host entry, right to left (a host entry has no
 * slash, a route configuration name may).
 */
export function splitVhdsName(name: string): { routeConfig: string; host: string } | undefined {
  const i = name.lastIndexOf('/');
  if (i <= 0 || i === name.length - 1) return undefined;
  return { routeConfig: name.slice(0, i), host: name.slice(i + 1) };
}

/** The route configuration as a VHDS client receives it: no virtual hosts, VHDS over ADS. */
export function vhdsRouteConfig(rc: RouteConfigJson): RouteConfigJson {
  const { virtualHosts: _, ...rest } = rc;
  return { ...rest, vhds: { configSource: { ads: {}, resourceApiVersion: 'V3' } } };
}

const resources = new WeakMap<VirtualHostJson, Map<string, Resource>>();

/**
 * A virtual host as a VHDS resource: renamed to its resource name (Envoy keys them by name). The
 * same virtual host object (memoized, see vhost-memo) gives the same resource object.
 */
function vhostResource(rc: string, vh: VirtualHostJson): Resource {
  let byRc = resources.get(vh);
  const hit = byRc?.get(rc);
  if (hit) return hit;
  const name = vhdsResourceName(rc, vh.name ?? '');
  const r = { name, body: { ...vh, name } };
  if (!byRc) resources.set(vh, (byRc = new Map()));
  byRc.set(rc, r);
  return r;
}

/** Whether a virtual host domain (exact, `*.suffix`, `prefix*` or `*`) serves `host`. */
export function domainMatches(domain: string, host: string): boolean {
  if (domain === host) return true;
  if (domain === '*') return true;
  if (domain.startsWith('*')) return host.endsWith(domain.slice(1)) && host.length > domain.length - 1;
  if (domain.endsWith('*')) return host.startsWith(domain.slice(0, -1)) && host.length > domain.length - 1;
  return false;
}

/**
 * The virtual host serving `host` in Envoy's order: exact domain, then longest suffix wildcard,
 * then longest prefix wildcard, then `*`.
 */
export function virtualHostFor(rc: RouteConfigJson, host: string): VirtualHostJson | undefined {
  const h = host.toLowerCase();
  let best: { vh: VirtualHostJson; rank: number; len: number } | undefined;
  for (const vh of rc.virtualHosts ?? [])
    for (const d of vh.domains ?? []) {
      if (!domainMatches(d.toLowerCase(), h)) continue;
      const rank = d === h ? 3 : d === '*' ? 0 : d.startsWith('*') ? 2 : 1;
      if (!best || rank > best.rank || (rank === best.rank && d.length > best.len))
        best = { vh, rank, len: d.length };
    }
  return best?.vh;
}

/**
 * The VHDS resources answering subscribed `names` in `configs`: a route configuration name gives
 * all its virtual hosts, `<route config>/<host>` the one serving host. Sorted by name, no repeats.
 */
export function virtualHostResources(
  configs: readonly RouteConfigJson[],
  names: readonly string[],
): Resource[] {
  // The common subscription, one whole route configuration: its list, patched from the one
  // before it when only some of its virtual hosts were regenerated.
  const only = names.length === 1 ? names[0] : undefined;
  if (only !== undefined) {
    const rc = configs.findLast((c) => (c.name ?? '') === only);
    const whole = rc && wholeConfig(rc, only);
    if (whole) return whole.list.slice();
  }
  const byName = new Map(configs.map((rc) => [rc.name ?? '', rc]));
  const out = new Map<string, Resource>();
  for (const n of names) {
    const whole = byName.get(n);
    if (whole) {
      for (const vh of whole.virtualHosts ?? []) {
        const r = vhostResource(n, vh);
        out.set(r.name, r);
      }
      continue;
    }
    const split = splitVhdsName(n);
    const rc = split && byName.get(split.routeConfig);
    const vh = rc && split && virtualHostFor(rc, split.host);
    if (split && vh) {
      const r = vhostResource(split.routeConfig, vh);
      out.set(r.name, r);
    }
  }
  return [...out.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

const byResourceName = (a: Resource, b: Resource): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** A route configuration's virtual hosts as resources sorted by name, and each host's place in it. */
interface WholeConfig {
  readonly list: readonly Resource[];
  /** Virtual host index → index in `list`. */
  readonly slot: readonly number[];
}

/** By configuration object (for one subscription name); null when two hosts share a name. */
const wholeConfigs = new WeakMap<
  RouteConfigJson,
  { readonly name: string; readonly whole: WholeConfig | null }
>();

/**
 * The resources of a whole route configuration subscribed as `name`. A configuration patched from
 * another (route-configs) copies its predecessor's list and replaces the regenerated hosts in
 * their places (same names, so the same order): a change to one service does not rebuild and
 * re-sort a thousand resources per proxy class.
 */
function wholeConfig(rc: RouteConfigJson, name: string): WholeConfig | null {
  const known = wholeConfigs.get(rc);
  if (known?.name === name) return known.whole;
  const hosts = rc.virtualHosts ?? [];
  const patch = patchedFrom(rc);
  const before = patch && wholeConfigs.get(patch.prev);
  let whole: WholeConfig | null | undefined;
  if (patch && before?.name === name && before.whole && before.whole.list.length === hosts.length) {
    const list = before.whole.list.slice();
    whole = { list, slot: before.whole.slot };
    for (const i of patch.changed) {
      const vh = hosts[i];
      const at = before.whole.slot[i];
      const r = vh && vhostResource(name, vh);
      if (!r || at === undefined || list[at]?.name !== r.name) {
        whole = undefined; // not the same hosts after all: build it whole
        break;
      }
      list[at] = r;
    }
  }
  if (whole === undefined) {
    const resources = hosts.map((vh) => vhostResource(name, vh));
    const order = resources
      .map((_, i) => i)
      .sort((a, b) => byResourceName(resources[a] as Resource, resources[b] as Resource));
    const list = order.map((i) => resources[i] as Resource);
    const slot: number[] = new Array<number>(hosts.length);
    order.forEach((vhIndex, at) => (slot[vhIndex] = at));
    whole = list.every((r, i) => i === 0 || list[i - 1]?.name !== r.name) ? { list, slot } : null;
  }
  wholeConfigs.set(rc, { name, whole });
  return whole;
}

/** The subscribed names (of `names`) that `resource` answers other than by its own name. */
export function aliasesOf(
  resource: string,
  names: Iterable<string>,
  configs: readonly RouteConfigJson[],
): string[] {
  const out: string[] = [];
  for (const n of names) {
    if (n === resource) continue;
    const split = splitVhdsName(n);
    if (!split || !resource.startsWith(`${split.routeConfig}/`)) continue;
    const rc = configs.find((c) => c.name === split.routeConfig);
    const vh = rc && virtualHostFor(rc, split.host);
    if (vh && vhdsResourceName(split.routeConfig, vh.name ?? '') === resource) out.push(n);
  }
  return out;
}

/** Route configurations computed once per context for both RDS and VHDS. */
const configsOf = new WeakMap<TranslateContext, RouteConfigJson[]>();
export function routeConfigsOf(ctx: TranslateContext): RouteConfigJson[] {
  let list = configsOf.get(ctx);
  if (!list) configsOf.set(ctx, (list = sidecarRouteConfigs(ctx)));
  return list;
}

const vhdsRds: Generator = {
  generate: (ctx, names) => {
    const want = new Set(names);
    return routeConfigsOf(ctx)
      .filter((rc) => names.length === 0 || want.has(rc.name ?? ''))
      .map((rc) => ({ name: rc.name ?? '', body: vhdsRouteConfig(rc) }));
  },
};

const vhds: Generator = {
  generate: (ctx, names) => virtualHostResources(routeConfigsOf(ctx), names),
};

/** The RDS and VHDS generators of a sidecar that uses VHDS, by type URL. */
export const vhdsGenerators: Readonly<Record<string, TypeGenerators>> = {
  [TypeUrl.RouteConfiguration]: { shared: vhdsRds },
  [VIRTUAL_HOST_TYPE]: { shared: vhds },
};

/**
 * Whether a proxy asked for VHDS: an Envoy sidecar (not a gateway or proxyless gRPC client) whose
 * node metadata sets `SKEIN_VHDS: "true"`. It must also speak delta xDS (checked by the server).
 */
export function wantsVhds(proxy: {
  readonly type: string;
  readonly generator: string;
  readonly metadata: Readonly<Record<string, unknown>>;
}): boolean {
  const v = proxy.metadata[VHDS_METADATA_KEY];
  return proxy.type === 'sidecar' && proxy.generator === 'envoy' && (v === 'true' || v === true);
}
