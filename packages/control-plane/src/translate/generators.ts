// The generator table: one small generator per xDS type behind a one-method interface, one
// table for Envoy sidecars and one for proxyless gRPC clients. `names` are the resources the
// client subscribed to (empty for a wildcard subscription). Each type has a `shared` generator
// (outbound: identical for every proxy of a class, see proxy-class) and optionally an `own` one
// (inbound: this proxy's workload); `generateAll` merges them.
import { TypeUrl } from '@skein/api-types';
import type { TranslateContext } from './context.js';
import { grpcClusters, inboundClusters, outboundClusters } from './clusters.js';
import { endpointsFor } from './endpoints.js';
import { grpcListeners, grpcRouteConfigs } from './grpc.js';
import { inboundListeners, outboundListeners } from './listeners.js';
import { sidecarRouteConfigs } from './route-configs.js';
import { NAME_TABLE_RESOURCE, nameTable } from './name-table.js';
import { gatewayListeners, gatewayRouteConfigs } from './gateway.js';
import { withTcpAccessLogs } from './tcp-access-log.js';
import { credentialSecrets } from './credentials.js';

/** A generated resource: its name and canonical-JSON body. */
export interface Resource {
  readonly name: string;
  readonly body: object;
}

export interface Generator {
  generate(ctx: TranslateContext, names: readonly string[]): Resource[];
}

export interface TypeGenerators {
  /** Depends only on the proxy's class; computed once per class and shared. */
  readonly shared: Generator;
  /** Specific to one proxy; wins over a shared resource of the same name. */
  readonly own?: Generator | undefined;
}

const named = <T extends { name?: string | undefined }>(list: readonly T[]): Resource[] =>
  list.map((r) => ({ name: r.name ?? '', body: r }));

const only = (names: readonly string[], list: Resource[]): Resource[] => {
  if (names.length === 0) return list;
  const want = new Set(names);
  return list.filter((r) => want.has(r.name));
};

/** credentialName secrets: this proxy's namespace only, so never shared across a class. */
const credentials: TypeGenerators = {
  shared: { generate: () => [] },
  own: { generate: (ctx, names) => named(credentialSecrets(ctx, names)) },
};

const eds: Generator = {
  generate: (ctx, names) =>
    [...new Set(names)]
      .sort()
      .map((n) => endpointsFor(ctx, n))
      .filter((c) => c !== undefined)
      .map((c) => ({ name: c.clusterName ?? '', body: c })),
};

export const sidecarGenerators: Readonly<Record<string, TypeGenerators>> = {
  [TypeUrl.Listener]: {
    shared: { generate: (ctx) => named(withTcpAccessLogs(outboundListeners(ctx), ctx, 'CLIENT')) },
    own: { generate: (ctx) => named(withTcpAccessLogs(inboundListeners(ctx), ctx, 'SERVER')) },
  },
  [TypeUrl.Cluster]: {
    shared: { generate: (ctx) => named(outboundClusters(ctx)) },
    own: { generate: (ctx) => named(inboundClusters(ctx)) },
  },
  [TypeUrl.RouteConfiguration]: {
    shared: { generate: (ctx, names) => only(names, named(sidecarRouteConfigs(ctx))) },
  },
  [TypeUrl.ClusterLoadAssignment]: { shared: eds },
  [TypeUrl.NameTable]: {
    shared: { generate: (ctx) => [{ name: NAME_TABLE_RESOURCE, body: nameTable(ctx) }] },
  },
  [TypeUrl.Secret]: credentials,
};

export const grpcGenerators: Readonly<Record<string, TypeGenerators>> = {
  [TypeUrl.Listener]: { shared: { generate: (ctx, names) => named(grpcListeners(ctx, names)) } },
  [TypeUrl.Cluster]: { shared: { generate: (ctx, names) => named(grpcClusters(ctx, names)) } },
  [TypeUrl.RouteConfiguration]: { shared: { generate: (ctx, names) => named(grpcRouteConfigs(ctx, names)) } },
  [TypeUrl.ClusterLoadAssignment]: { shared: eds },
};

/** Gateways (`router~` proxies): gateway listeners and routes, outbound clusters. */
export const gatewayGenerators: Readonly<Record<string, TypeGenerators>> = {
  [TypeUrl.Listener]: {
    shared: { generate: (ctx) => named(withTcpAccessLogs(gatewayListeners(ctx), ctx, 'CLIENT')) },
  },
  [TypeUrl.Cluster]: { shared: { generate: (ctx) => named(outboundClusters(ctx)) } },
  [TypeUrl.RouteConfiguration]: {
    shared: { generate: (ctx, names) => only(names, named(gatewayRouteConfigs(ctx))) },
  },
  [TypeUrl.ClusterLoadAssignment]: { shared: eds },
  [TypeUrl.NameTable]: {
    shared: { generate: (ctx) => [{ name: NAME_TABLE_RESOURCE, body: nameTable(ctx) }] },
  },
  [TypeUrl.Secret]: credentials,
};

/** The generators for a proxy and type, or undefined when skeind does not serve that type. */
export function generatorFor(ctx: TranslateContext, typeUrl: string): TypeGenerators | undefined {
  if (ctx.proxy.generator === 'grpc') return grpcGenerators[typeUrl];
  return (ctx.proxy.type === 'router' ? gatewayGenerators : sidecarGenerators)[typeUrl];
}

/** Own resources first; a shared resource whose name an own one took is left out. Sorted by name. */
export function mergeResources(own: readonly Resource[], shared: readonly Resource[]): Resource[] {
  const taken = new Set(own.map((r) => r.name));
  return [...own, ...shared.filter((r) => !taken.has(r.name))].sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
  );
}

/** Everything of one type for one proxy (no sharing; for tests and config dumps). */
export function generateAll(
  gen: TypeGenerators,
  ctx: TranslateContext,
  names: readonly string[],
): Resource[] {
  return mergeResources(gen.own?.generate(ctx, names) ?? [], gen.shared.generate(ctx, names));
}

/** Types a client may subscribe to with a wildcard (empty names = everything). */
export function isWildcardType(ctx: TranslateContext, typeUrl: string): boolean {
  return (
    ctx.proxy.generator !== 'grpc' &&
    (typeUrl === TypeUrl.Listener || typeUrl === TypeUrl.Cluster || typeUrl === TypeUrl.NameTable)
  );
}
