// The generator table: one small generator per xDS type behind a one-method interface, one
// table for Envoy sidecars and one for proxyless gRPC clients. `names` are the resources the
// client subscribed to (empty for a wildcard subscription).
import { TypeUrl } from '@skein/api-types';
import type { TranslateContext } from './context.js';
import { grpcClusters, sidecarClusters } from './clusters.js';
import { endpointsFor } from './endpoints.js';
import { grpcListeners, grpcRouteConfigs } from './grpc.js';
import { sidecarListeners } from './listeners.js';
import { sidecarRouteConfigs } from './route-configs.js';

/** A generated resource: its name and canonical-JSON body. */
export interface Resource {
  readonly name: string;
  readonly body: object;
}

export interface Generator {
  generate(ctx: TranslateContext, names: readonly string[]): Resource[];
}

const named = <T extends { name?: string | undefined }>(list: readonly T[]): Resource[] =>
  list.map((r) => ({ name: r.name ?? '', body: r }));

const only = (names: readonly string[], list: Resource[]): Resource[] => {
  if (names.length === 0) return list;
  const want = new Set(names);
  return list.filter((r) => want.has(r.name));
};

const eds: Generator = {
  generate: (ctx, names) =>
    [...new Set(names)]
      .sort()
      .map((n) => endpointsFor(ctx, n))
      .filter((c) => c !== undefined)
      .map((c) => ({ name: c.clusterName ?? '', body: c })),
};

export const sidecarGenerators: Readonly<Record<string, Generator>> = {
  [TypeUrl.Listener]: { generate: (ctx) => named(sidecarListeners(ctx)) },
  [TypeUrl.Cluster]: { generate: (ctx) => named(sidecarClusters(ctx)) },
  [TypeUrl.RouteConfiguration]: { generate: (ctx, names) => only(names, named(sidecarRouteConfigs(ctx))) },
  [TypeUrl.ClusterLoadAssignment]: eds,
};

export const grpcGenerators: Readonly<Record<string, Generator>> = {
  [TypeUrl.Listener]: { generate: (ctx, names) => named(grpcListeners(ctx, names)) },
  [TypeUrl.Cluster]: { generate: (ctx, names) => named(grpcClusters(ctx, names)) },
  [TypeUrl.RouteConfiguration]: { generate: (ctx, names) => named(grpcRouteConfigs(ctx, names)) },
  [TypeUrl.ClusterLoadAssignment]: eds,
};

/** The generator for a proxy and type, or undefined when skeind does not serve that type. */
export function generatorFor(ctx: TranslateContext, typeUrl: string): Generator | undefined {
  return (ctx.proxy.generator === 'grpc' ? grpcGenerators : sidecarGenerators)[typeUrl];
}

/** Types a client may subscribe to with a wildcard (empty names = everything). */
export function isWildcardType(ctx: TranslateContext, typeUrl: string): boolean {
  return ctx.proxy.generator !== 'grpc' && (typeUrl === TypeUrl.Listener || typeUrl === TypeUrl.Cluster);
}
