// Envoy's /config_dump: a ConfigDump of typed bootstrap, listener, cluster, route, secret (and
// on request endpoint) dumps with versions and last-updated times, printed with proto field
// names (snake_case) as Envoy prints it. Built from the resource store and checked against the
// generated ConfigDump schema on the way out.
import { fromJson, toJson, type JsonValue } from '@bufbuild/protobuf';
import { configDumpV3, realDesc, xdsRegistry, TypeUrl } from '@skein/api-types';
import type { ResourceStore, ResourceTable } from '../xds/resource-store.js';
import type { BootstrapJson } from '../bootstrap/load-bootstrap.js';

const A = 'type.googleapis.com/envoy.admin.v3.';

function typed(typeUrl: string, json: unknown): Record<string, unknown> {
  return { '@type': typeUrl, ...(json as Record<string, unknown>) };
}

function split<T>(t: ResourceTable<T>): {
  stat: ReturnType<ResourceTable<T>['entries']['get']>[];
  dyn: ReturnType<ResourceTable<T>['entries']['get']>[];
} {
  const all = [...t.entries.values()].sort((a, b) => a.name.localeCompare(b.name));
  return { stat: all.filter((e) => e.isStatic), dyn: all.filter((e) => !e.isStatic) };
}

export interface DumpInput {
  bootstrap: BootstrapJson;
  bootstrapTime: Date;
  store: ResourceStore;
  warmingListeners: ReadonlyMap<string, unknown>;
  warmingClusters: readonly string[];
  includeEds: boolean;
}

const REDACTED = { inlineString: '[redacted]' };

/**
 * A copy with every private key (TlsCertificate `private_key`, in secrets and inline TLS contexts)
 * replaced by "[redacted]", as Envoy's config_dump prints sensitive fields.
 */
export function redactPrivateKeys<T>(v: T): T {
  if (Array.isArray(v)) return v.map(redactPrivateKeys) as T;
  if (!v || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>))
    out[k] =
      (k === 'privateKey' || k === 'private_key') && x && typeof x === 'object'
        ? REDACTED
        : redactPrivateKeys(x);
  return out as T;
}

export function configDumpJson(i: DumpInput): Record<string, unknown> {
  return redactPrivateKeys(unredactedDump(i));
}

function unredactedDump(i: DumpInput): Record<string, unknown> {
  const { store } = i;
  const l = split(store.listeners);
  const c = split(store.clusters);
  const r = split(store.routes);
  const s = split(store.secrets);
  const configs: Record<string, unknown>[] = [
    typed(`${A}BootstrapConfigDump`, { bootstrap: i.bootstrap, lastUpdated: i.bootstrapTime.toISOString() }),
    typed(`${A}ClustersConfigDump`, {
      versionInfo: store.clusters.versionInfo,
      staticClusters: c.stat.map((e) => ({
        cluster: typed(TypeUrl.Cluster, e?.resource),
        lastUpdated: e?.lastUpdated.toISOString(),
      })),
      dynamicActiveClusters: c.dyn
        .filter((e) => !i.warmingClusters.includes(e?.name ?? ''))
        .map((e) => ({
          versionInfo: e?.version,
          cluster: typed(TypeUrl.Cluster, e?.resource),
          lastUpdated: e?.lastUpdated.toISOString(),
        })),
      dynamicWarmingClusters: c.dyn
        .filter((e) => i.warmingClusters.includes(e?.name ?? ''))
        .map((e) => ({
          versionInfo: e?.version,
          cluster: typed(TypeUrl.Cluster, e?.resource),
          lastUpdated: e?.lastUpdated.toISOString(),
        })),
    }),
    typed(`${A}ListenersConfigDump`, {
      versionInfo: store.listeners.versionInfo,
      staticListeners: l.stat.map((e) => ({
        listener: typed(TypeUrl.Listener, e?.resource),
        lastUpdated: e?.lastUpdated.toISOString(),
      })),
      dynamicListeners: l.dyn.map((e) => {
        const state = {
          versionInfo: e?.version,
          listener: typed(TypeUrl.Listener, e?.resource),
          lastUpdated: e?.lastUpdated.toISOString(),
        };
        return i.warmingListeners.has(e?.name ?? '')
          ? { name: e?.name, warmingState: state }
          : { name: e?.name, activeState: state };
      }),
    }),
    typed(`${A}RoutesConfigDump`, {
      staticRouteConfigs: r.stat.map((e) => ({
        routeConfig: typed(TypeUrl.RouteConfiguration, e?.resource),
        lastUpdated: e?.lastUpdated.toISOString(),
      })),
      dynamicRouteConfigs: r.dyn.map((e) => ({
        versionInfo: e?.version,
        routeConfig: typed(TypeUrl.RouteConfiguration, e?.resource),
        lastUpdated: e?.lastUpdated.toISOString(),
      })),
    }),
    typed(`${A}SecretsConfigDump`, {
      staticSecrets: s.stat.map((e) => ({
        name: e?.name,
        lastUpdated: e?.lastUpdated.toISOString(),
        secret: typed(TypeUrl.Secret, e?.resource),
      })),
      dynamicActiveSecrets: s.dyn.map((e) => ({
        name: e?.name,
        versionInfo: e?.version,
        lastUpdated: e?.lastUpdated.toISOString(),
        secret: typed(TypeUrl.Secret, e?.resource),
      })),
    }),
  ];
  if (i.includeEds) {
    const eds = [...store.endpoints.entries.values()];
    configs.push(
      typed(`${A}EndpointsConfigDump`, {
        staticEndpointConfigs: eds
          .filter((e) => e.isStatic)
          .map((e) => ({
            endpointConfig: typed(TypeUrl.ClusterLoadAssignment, e.resource),
            lastUpdated: e.lastUpdated.toISOString(),
          })),
        dynamicEndpointConfigs: eds
          .filter((e) => !e.isStatic)
          .map((e) => ({
            versionInfo: e.version,
            endpointConfig: typed(TypeUrl.ClusterLoadAssignment, e.resource),
            lastUpdated: e.lastUpdated.toISOString(),
          })),
      }),
    );
  }
  return { configs };
}

/** The dump as Envoy prints it: validated against the schema, snake_case field names. */
export function renderConfigDump(i: DumpInput): string {
  // The built descriptor, not the lazy stand-in (see realDesc): a dump must not pin descriptors.
  const schema = realDesc(configDumpV3.ConfigDumpSchema);
  const msg = fromJson(schema, configDumpJson(i) as JsonValue, { registry: xdsRegistry });
  return JSON.stringify(toJson(schema, msg, { registry: xdsRegistry, useProtoFieldName: true }), null, 2);
}
