// VHDS on the proxy side: route configurations whose `vhds` field says their virtual hosts come
// over the Virtual Host Discovery Service (delta xDS), merged with the virtual hosts received so
// far. An update is staged — every route configuration it touches compiled anew — and committed
// only when all compile, so a bad virtual host is rejected whole while the last good ones stay;
// the caller swaps the compiled tables in one synchronous step (workers see all or nothing).
import type { routeComponentsV3, routeV3 } from '@skein/api-types';
import { compileRouteTable, type RouteTable } from '../router/route-table.js';
import type { XdsResource } from './xds-sink.js';

type RouteConfigJson = routeV3.RouteConfigurationJson;
type VirtualHostJson = routeComponentsV3.VirtualHostJson;

export const VIRTUAL_HOST_TYPE = 'type.googleapis.com/envoy.config.route.v3.VirtualHost';

/** The route configuration a VHDS resource name (`<route config>/<host>`) belongs to (right to left). */
export function routeConfigOf(name: string): string | undefined {
  const i = name.lastIndexOf('/');
  return i <= 0 ? undefined : name.slice(0, i);
}

/** Whether a route configuration takes its virtual hosts from VHDS. */
export const usesVhds = (rc: RouteConfigJson): boolean => rc.vhds !== undefined;

export interface CompiledRoute {
  readonly name: string;
  readonly config: RouteConfigJson;
  readonly table: RouteTable;
}

export type Staged =
  { ok: true; compiled: CompiledRoute[]; commit: () => void } | { ok: false; error: string };

export class VhdsRoutes {
  /** Route configurations with `vhds`, as RDS sent them. */
  private readonly bases = new Map<string, RouteConfigJson>();
  /** Route configuration name → VHDS resource name → virtual host. */
  private readonly hosts = new Map<string, Map<string, VirtualHostJson>>();
  /** Route configurations that have had a VHDS response (installed only from then on, as Envoy's init). */
  private readonly received = new Set<string>();

  /** Route configuration names to subscribe to on VHDS (the full set of each's virtual hosts). */
  wanted(): string[] {
    return [...this.bases.keys()].sort();
  }

  /** The RDS side: a route configuration with `vhds` arrived. Compiled when its hosts are in. */
  setBase(rc: RouteConfigJson): CompiledRoute | undefined {
    const name = rc.name ?? '';
    const prev = this.bases.get(name);
    // A changed VHDS source starts the virtual host table over (Envoy's rule).
    if (prev && JSON.stringify(prev.vhds) !== JSON.stringify(rc.vhds)) {
      this.hosts.delete(name);
      this.received.delete(name);
    }
    this.bases.set(name, rc);
    return this.received.has(name) ? this.compile(name, this.hosts.get(name)) : undefined;
  }

  /** The route configuration is gone from RDS, or no longer uses VHDS. */
  removeBase(name: string): void {
    this.bases.delete(name);
    this.hosts.delete(name);
    this.received.delete(name);
  }

  /** Compiles the merged route configuration (throws on an invalid one). */
  compile(name: string, hosts: ReadonlyMap<string, VirtualHostJson> | undefined): CompiledRoute {
    const base = this.bases.get(name) ?? { name };
    const vhosts = [...(base.virtualHosts ?? []), ...[...(hosts?.values() ?? [])]];
    const config: RouteConfigJson = { ...base, virtualHosts: vhosts };
    return { name, config, table: compileRouteTable(config) };
  }

  /**
   * Stages a VHDS update (`resources` added or changed, `removed` names gone). Nothing changes
   * until `commit()`; a virtual host that does not compile rejects the whole update.
   */
  stage(resources: readonly XdsResource[], removed: readonly string[]): Staged {
    const next = new Map<string, Map<string, VirtualHostJson>>();
    const copy = (rc: string): Map<string, VirtualHostJson> => {
      let m = next.get(rc);
      if (!m) next.set(rc, (m = new Map(this.hosts.get(rc) ?? [])));
      return m;
    };
    for (const r of resources) {
      const rc = routeConfigOf(r.name);
      if (rc === undefined)
        return { ok: false, error: `virtual host ${r.name}: name is not <route config>/<host>` };
      const vh = r.json as VirtualHostJson;
      if (!Array.isArray(vh.domains) || vh.domains.length === 0)
        return { ok: false, error: `virtual host ${r.name}: no domains` };
      try {
        compileRouteTable({ name: rc, virtualHosts: [vh] });
      } catch (err) {
        return {
          ok: false,
          error: `virtual host ${r.name}: ${err instanceof Error ? err.message : String(err)}`,
        };
      }
      copy(rc).set(r.name, vh);
    }
    for (const n of removed) {
      const rc = routeConfigOf(n);
      if (rc !== undefined) copy(rc).delete(n);
    }
    const compiled: CompiledRoute[] = [];
    for (const [rc, hosts] of next) {
      if (!this.bases.has(rc)) continue; // kept for when its route configuration arrives
      try {
        compiled.push(this.compile(rc, hosts));
      } catch (err) {
        return {
          ok: false,
          error: `route configuration ${rc} with its virtual hosts: ${err instanceof Error ? err.message : String(err)}`,
        };
      }
    }
    // An empty response (a subscribed route configuration without virtual hosts) still completes
    // the route configurations waiting for their first one.
    const empty = resources.length === 0 && removed.length === 0;
    const fresh = empty ? this.wanted().filter((rc) => !this.received.has(rc)) : [];
    for (const rc of fresh) compiled.push(this.compile(rc, this.hosts.get(rc)));
    return {
      ok: true,
      compiled,
      commit: () => {
        for (const [rc, hosts] of next) this.hosts.set(rc, hosts);
        for (const c of compiled) this.received.add(c.name);
      },
    };
  }
}
