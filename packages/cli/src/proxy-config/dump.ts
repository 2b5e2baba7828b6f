// Reading an Envoy-style /config_dump (from skein-proxy or Envoy): the typed sections, whatever
// the field-name casing (Envoy prints proto names, canonical JSON uses camelCase).

type Json = Record<string, unknown>;

/** Recursively turns snake_case keys into camelCase ("@type" and dotted filter names untouched). */
export function camelize(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(camelize);
  if (typeof value !== 'object' || value === null) return value;
  const out: Json = {};
  for (const [k, v] of Object.entries(value)) {
    const key =
      k.includes('.') || k.startsWith('@') ? k : k.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
    out[key] = camelize(v);
  }
  return out;
}

export interface ConfigDump {
  bootstrap?: Json;
  listeners: { listener: Json; versionInfo?: string; dynamic: boolean }[];
  routes: { routeConfig: Json; versionInfo?: string; dynamic: boolean }[];
  clusters: { cluster: Json; versionInfo?: string; dynamic: boolean }[];
  secrets: { name: string; secret?: Json; versionInfo?: string }[];
}

const section = (configs: Json[], type: string) =>
  configs.find((c) => String(c['@type']).endsWith(`.${type}`)) ?? {};
const list = (v: unknown): Json[] => (Array.isArray(v) ? (v as Json[]) : []);

export function readConfigDump(raw: unknown): ConfigDump {
  const dump = camelize(raw) as { configs?: Json[] };
  const configs = list(dump.configs);
  const b = section(configs, 'BootstrapConfigDump');
  const l = section(configs, 'ListenersConfigDump');
  const r = section(configs, 'RoutesConfigDump');
  const c = section(configs, 'ClustersConfigDump');
  const s = section(configs, 'SecretsConfigDump');
  const opt = (v: unknown) => (typeof v === 'string' ? { versionInfo: v } : {});
  return {
    ...(b.bootstrap ? { bootstrap: b.bootstrap as Json } : {}),
    listeners: [
      ...list(l.staticListeners).map((x) => ({ listener: x.listener as Json, dynamic: false })),
      ...list(l.dynamicListeners)
        .filter((x) => x.activeState)
        .map((x) => {
          const a = x.activeState as Json;
          return { listener: a.listener as Json, ...opt(a.versionInfo), dynamic: true };
        }),
    ],
    routes: [
      ...list(r.staticRouteConfigs).map((x) => ({ routeConfig: x.routeConfig as Json, dynamic: false })),
      ...list(r.dynamicRouteConfigs).map((x) => ({
        routeConfig: x.routeConfig as Json,
        ...opt(x.versionInfo),
        dynamic: true,
      })),
    ],
    clusters: [
      ...list(c.staticClusters).map((x) => ({ cluster: x.cluster as Json, dynamic: false })),
      ...list(c.dynamicActiveClusters).map((x) => ({
        cluster: x.cluster as Json,
        ...opt(x.versionInfo),
        dynamic: true,
      })),
    ],
    secrets: [...list(s.staticSecrets), ...list(s.dynamicActiveSecrets)].map((x) => ({
      name: String(x.name ?? (x.secret as Json | undefined)?.name ?? ''),
      ...(x.secret ? { secret: x.secret as Json } : {}),
      ...opt(x.versionInfo),
    })),
  };
}
