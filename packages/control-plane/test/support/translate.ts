// Test utilities: a real translator fed from a YAML string, and every generated resource
// checked by encoding it to protobuf (the codec rejects unknown fields and wrong shapes).
import { encodeJson, TypeUrl } from '@skein/api-types';
import { meshValidator } from '../../src/ingest/validation.js';
import { parseDocuments } from '../../src/ingest/yaml-documents.js';
import type { ConfigObject } from '../../src/model/istio-types.js';
import { DEFAULT_MESH_CONFIG, type MeshConfig } from '../../src/model/mesh-config.js';
import { parseProxy, type Proxy } from '../../src/model/proxy.js';
import { buildSnapshot, type Snapshot } from '../../src/model/snapshot.js';
import { translateContext, type TranslateContext } from '../../src/translate/context.js';
import type { SecurityContributor } from '../../src/translate/security.js';
import { generateAll, generatorFor } from '../../src/translate/generators.js';

export function objectsFromYaml(text: string): ConfigObject[] {
  return parseDocuments(text).map((d) => {
    if (!d.ok) throw new Error(d.error);
    const v = meshValidator(d.value);
    if (!v.ok) throw new Error(JSON.stringify(v.problems));
    const o = v.object;
    return o.metadata.namespace ? o : { ...o, metadata: { ...o.metadata, namespace: 'default' } };
  });
}

export function snapshotFromYaml(text: string, mesh: MeshConfig = DEFAULT_MESH_CONFIG): Snapshot {
  return buildSnapshot({ version: 'test', mesh, objects: objectsFromYaml(text) });
}

export interface ProxySpec {
  readonly ip: string;
  readonly pod?: string;
  readonly namespace?: string;
  readonly labels?: Record<string, string>;
  readonly generator?: 'grpc';
  readonly interceptionMode?: 'NONE' | 'REDIRECT' | 'TPROXY';
  readonly type?: 'sidecar' | 'router';
  readonly locality?: { region?: string; zone?: string; subZone?: string };
  /** Further node metadata (e.g. DNS_AUTO_ALLOCATE). */
  readonly metadata?: Record<string, string>;
}

export function proxy(spec: ProxySpec): Proxy {
  const ns = spec.namespace ?? 'default';
  const r = parseProxy({
    id: `${spec.type ?? 'sidecar'}~${spec.ip}~${spec.pod ?? 'pod'}.${ns}~${ns}.svc.cluster.local`,
    metadata: {
      NAMESPACE: ns,
      LABELS: spec.labels ?? {},
      ...(spec.generator ? { GENERATOR: spec.generator } : {}),
      ...(spec.interceptionMode ? { INTERCEPTION_MODE: spec.interceptionMode } : {}),
      ...spec.metadata,
    },
    ...(spec.locality ? { locality: spec.locality } : {}),
  });
  if (!r.ok) throw new Error(r.error);
  return r.proxy;
}

export interface Generated {
  readonly listeners: Record<string, unknown>[];
  readonly routes: Record<string, unknown>[];
  readonly clusters: Record<string, unknown>[];
  readonly endpoints: Record<string, unknown>[];
}

/** Generates what a sidecar (or a gRPC client asking for `names`) would receive; encodes each. */
export function generate(
  snap: Snapshot,
  p: Proxy,
  listenerNames: readonly string[] = [],
  security?: SecurityContributor,
): Generated {
  const ctx: TranslateContext = translateContext(snap, p, security);
  const run = (type: string, names: readonly string[]) => {
    const gen = generatorFor(ctx, type);
    if (!gen) throw new Error(`no generator for ${type}`);
    const out = generateAll(gen, ctx, names);
    for (const r of out) encodeJson(type, r.body); // throws on a malformed resource
    return out.map((r) => r.body as Record<string, unknown>);
  };
  const listeners = run(TypeUrl.Listener, listenerNames);
  const routeNames =
    JSON.stringify(listeners)
      .match(/"routeConfigName":"[^"]+"/g)
      ?.map((m) => m.slice(19, -1)) ?? [];
  const routes = run(TypeUrl.RouteConfiguration, routeNames);
  const clusterNames = new Set<string>();
  for (const m of JSON.stringify(routes).matchAll(/"(?:cluster|name)":"(outbound\|[^"]+)"/g))
    clusterNames.add(m[1] ?? '');
  const clusters = run(TypeUrl.Cluster, p.generator === 'grpc' ? [...clusterNames] : []);
  const edsNames = clusters
    .filter((c) => c['type'] === 'EDS')
    .map((c) => String((c['edsClusterConfig'] as { serviceName: string }).serviceName));
  const endpoints = run(TypeUrl.ClusterLoadAssignment, edsNames);
  return { listeners, routes, clusters, endpoints };
}
