// skeind in one object: the config store fed by the sources, the snapshot rebuilt on every
// change, debounced scoped pushes to the ADS server, and the debug/metrics HTTP server.
// `startControlPlane` is what bin/skeind, the demo and tests run in-process.
import { SKEIN_VERSION, TypeUrl } from '@skein/api-types';
import { KubernetesSource } from './ingest/kubernetes-source.js';
import { SecretAccessReviewer } from './ingest/secret-access-reviewer.js';
import { clusterFactsOfWorkloads, type Service } from './model/services.js';
import { ConfigStore } from './ingest/config-store.js';
import { DirectorySource } from './ingest/directory-source.js';
import { meshValidator, type Problem, type Validator } from './ingest/validation.js';
import { readMeshConfig } from './ingest/mesh-config-file.js';
import { watchMeshConfig } from './ingest/mesh-config-watcher.js';
import { createLogger, type Level, type Logger } from './log.js';
import { DEFAULT_MESH_CONFIG, type MeshConfig } from './model/mesh-config.js';
import { NO_NAMESPACES, type NamespaceLabels } from './model/namespaces.js';
import { buildSnapshot, type Snapshot } from './model/snapshot.js';
import { SnapshotAhead } from './model/snapshot-ahead.js';
import { XdsServer } from './serve/ads-server.js';
import { pushRequestFor } from './serve/change-impact.js';
import { DebugServer } from './serve/debug-http.js';
import { XdsMetrics } from './serve/metrics.js';
import { PushQueue } from './serve/push-queue.js';
import { PushTrace } from './serve/push-trace.js';
import type { Syncz } from './serve/syncz.js';
import type { SecurityContributor } from './translate/security.js';
import { meshSecurity } from '@skein/ca';
import { startEmbeddedCa, type EmbeddedCa, type EmbeddedCaConfig } from './security/embedded-ca.js';
import { startWebhooks, type RunningWebhooks, type WebhookConfig } from './webhook/start-webhooks.js';

/** What a snapshot is built from (the store's list, or a directory change's preview of it). */
type SnapshotObjects = Parameters<typeof buildSnapshot>[0]['objects'];

export interface ControlPlaneOptions {
  /** Directory of mesh YAML, watched. */
  readonly configDir?: string | undefined;
  /**
   * Kubernetes: a kubeconfig path, or `in-cluster` / `default` for the standard lookup
   * (KUBECONFIG, ~/.kube/config, in-cluster credentials). Absent: no Kubernetes source.
   */
  readonly kubeconfig?: string | undefined;
  /** MeshConfig YAML file (or ConfigMap); Istio's defaults when absent. */
  readonly meshConfigFile?: string | undefined;
  /** A MeshConfig object instead of a file. */
  readonly meshConfig?: MeshConfig | undefined;
  /**
   * With Kubernetes: the ConfigMap holding the mesh config (key `mesh`), watched; while it
   * exists it wins over `meshConfigFile` / `meshConfig`. Default `skein-system/istio`; false: none.
   */
  readonly meshConfigMap?: { namespace: string; name: string } | false | undefined;
  /** `host:port` for ADS; default `0.0.0.0:15010`. Port 0 picks a free port. */
  readonly xdsAddr?: string | undefined;
  /** `host:port` for /metrics and /debug; default `0.0.0.0:15014`. */
  readonly httpAddr?: string | undefined;
  /** Debounce: quiet period and maximum delay before a push (ms). Default 100 / 1000. */
  readonly debounceMs?: number | undefined;
  readonly debounceMaxMs?: number | undefined;
  /** How long a config file must be unmodified before it is read (ms). Default 100. */
  readonly settleMs?: number | undefined;
  readonly logLevel?: Level | undefined;
  readonly logger?: Logger | undefined;
  /** Security translation hooks (the security issue plugs in here). */
  readonly security?: SecurityContributor | undefined;
  /**
   * The embedded CA (directory or Kubernetes mode, see security/embedded-ca.ts) and the TLS port
   * serving its CSR service and ADS; when set, the security translation defaults to `meshSecurity()`
   * from @skein/ca. Absent: no CA (bin/skeind turns it on unless `--no-ca`).
   */
  readonly ca?: EmbeddedCaConfig | undefined;
  /** Replaces the built-in validator (e.g. with @skein/api-types' validateMeshObject). */
  readonly validator?: Validator | undefined;
  /**
   * The admission webhooks (sidecar injection, validation) over HTTPS with the CA's serving
   * certificate; needs `ca`. With Kubernetes, skeind also patches the configurations' caBundle.
   */
  readonly webhook?: WebhookConfig | undefined;
  /**
   * Log one `push trace` line per push with the wall-clock time of each stage (file event, scan,
   * parse, snapshot, debounce, push, first/last stream write): `--trace-push`.
   */
  readonly tracePush?: boolean | undefined;
  /** Streams written per event-loop turn during a push (default: all in one turn). */
  readonly streamsPerTurn?: number | undefined;
}

export interface RunningControlPlane {
  /** Bound ADS address `host:port`. */
  readonly xdsAddress: string;
  /** Bound HTTP address `host:port`. */
  readonly httpAddress: string;
  /** The embedded CA and its TLS port, when `ca` was given. */
  readonly ca: EmbeddedCa | undefined;
  /** The admission webhooks, when `webhook` was given. */
  readonly webhooks: RunningWebhooks | undefined;
  readonly store: ConfigStore;
  /** The current snapshot. */
  snapshot(): Snapshot;
  syncz(): Syncz;
  /** Current problems: objects rejected by validation, unreadable files, duplicates. */
  rejected(): readonly Problem[];
  /** Pushes pending changes now instead of after the debounce. */
  flush(): void;
  stop(): Promise<void>;
}

export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<RunningControlPlane> {
  const log = options.logger ?? createLogger(options.logLevel ?? 'info');
  if (options.webhook && !options.ca)
    throw new Error('the admission webhooks need the embedded CA (its serving certificate)');
  let fileMesh =
    options.meshConfig ??
    (options.meshConfigFile ? await readMeshConfig(options.meshConfigFile) : DEFAULT_MESH_CONFIG);
  /** The Kubernetes mesh ConfigMap's config, while it exists (it wins over the file). */
  let configMapMesh: MeshConfig | undefined;
  let mesh = fileMesh;
  let namespaces: NamespaceLabels = NO_NAMESPACES;
  const metrics = new XdsMetrics();
  const store = new ConfigStore();
  let snapshot = buildSnapshot({ version: '0', mesh, objects: [] });
  let registryServices: Service[] = [];
  let generation = 0;
  // The previous snapshot goes along: kinds (and services) whose objects did not change are kept.
  const snapshotOf = (version: string, objects: SnapshotObjects): Snapshot =>
    buildSnapshot({ version, mesh, objects, registryServices, namespaces }, snapshot);
  const rebuild = (): Snapshot => snapshotOf(`${store.version}.${generation}`, store.list());

  // While a directory change settles, the snapshot it would bring is built ahead (see
  // model/snapshot-ahead.ts); the store's change takes it when it brought exactly those objects.
  const ahead = new SnapshotAhead();

  const trace = options.tracePush ? new PushTrace() : undefined;
  // Kubernetes mode: credentialName Secrets only for service accounts RBAC lets list them.
  const secretAccess = options.kubeconfig
    ? new SecretAccessReviewer({
        kubeconfig:
          options.kubeconfig === 'in-cluster' || options.kubeconfig === 'default'
            ? undefined
            : options.kubeconfig,
        store,
        log: log.scope('credentials'),
      })
    : undefined;
  const xds = new XdsServer({
    snapshot: () => snapshot,
    trace,
    metrics,
    streamsPerTurn: options.streamsPerTurn,
    log: log.scope('xds'),
    credentialReview: secretAccess,
    security: options.security ?? (options.ca ? meshSecurity() : undefined),
  });
  const pushLog = log.scope('push');
  const queue = new PushQueue({
    quietMs: options.debounceMs ?? 100,
    maxDelayMs: options.debounceMaxMs ?? 1000,
    flush: (req) => {
      metrics.pushTriggers.inc({ type: req.full ? 'full' : req.types ? 'eds' : 'scoped' });
      trace?.mark('debounceFired');
      const started = performance.now();
      const reached = xds.push(req);
      const ms = Math.round(performance.now() - started);
      if (trace) {
        trace.mark('pushReturned');
        // Writes continue over the next event-loop turns (and the send budget may hold some
        // back): close the trace once every scheduled stream has been written, and log it once
        // those writes were flushed and ACKed (or after 2 s).
        const done = (): void => {
          if (xds.backlog.streams > 0) return void setImmediate(done);
          trace.finish((t) => pushLog.info('push trace', { reason: req.reason, proxies: reached, ...t }));
        };
        setImmediate(done);
      }
      pushLog.info('push', {
        reason: req.reason,
        full: req.full,
        hosts: req.hosts.size,
        types: req.types ?? 'all',
        proxies: reached,
        ms,
        sinceChangeMs: Date.now() - req.changeAt,
        version: snapshot.version,
      });
    },
  });
  store.onChange((change) => {
    const before = snapshot;
    // Convergence time and the debounce's quiet window count from the source's event (file
    // settle, parse and this rebuild included).
    const changeAt = change.observedAt ?? Date.now();
    const started = performance.now();
    const built = ahead.take(`${store.version}.${generation}`, snapshot, store.list());
    snapshot = built ?? rebuild();
    trace?.open('snapshotBuilt');
    pushLog.debug('snapshot rebuilt', {
      version: snapshot.version,
      ms: Math.round(performance.now() - started),
      changed: change.changed.length,
      builtAhead: built !== undefined,
    });
    queue.enqueue(pushRequestFor(change, (k) => store.get(k), [before, snapshot], changeAt));
  });

  const ingestLog = log.scope('ingest');
  const onProblem = (p: Problem): void => {
    if (p.severity === 'error') {
      metrics.configRejected.inc({ kind: p.object.split(' ')[0] ?? 'unknown' });
      ingestLog.warn('rejected', { object: p.object, path: p.path, reason: p.reason });
    } else ingestLog.info('warning', { object: p.object, path: p.path, reason: p.reason });
  };
  const dirSource = options.configDir
    ? new DirectorySource({
        dir: options.configDir,
        store,
        validate: options.validator ?? meshValidator,
        onProblem,
        settleMs: options.settleMs,
        onPreview: (objects) => {
          const list = dirSource && store.preview(dirSource.id, objects);
          if (!list) return;
          // The version and inputs `rebuild` will use once this is the store's next change.
          const version = `${store.version + 1}.${generation}`;
          const next = ahead.prepare(version, snapshot, list, (objects) => snapshotOf(version, objects));
          // Every proxy's context for it too, so that a push for it starts writing at once.
          xds.prepare(next);
        },
        onStage: trace
          ? (stage) => (stage === 'fileEvent' ? trace.open(stage) : trace.mark(stage))
          : undefined,
        onScan: trace ? () => trace.dropUnlessBuilt() : undefined,
      })
    : undefined;
  await dirSource?.start();
  const kubeSource = options.kubeconfig
    ? new KubernetesSource({
        kubeconfig:
          options.kubeconfig === 'in-cluster' || options.kubeconfig === 'default'
            ? undefined
            : options.kubeconfig,
        store,
        validate: options.validator ?? meshValidator,
        onProblem,
        log: log.scope('kubernetes'),
        ...(options.meshConfigMap === false
          ? {}
          : { meshConfigMap: options.meshConfigMap ?? { namespace: 'skein-system', name: 'istio' } }),
        onMeshConfig: (next) => {
          configMapMesh = next;
          const effective = configMapMesh ?? fileMesh;
          if (effective === mesh) return;
          mesh = effective;
          generation++;
          snapshot = rebuild();
          log.info('mesh config changed', { source: next ? 'ConfigMap' : 'file or defaults' });
          queue.enqueue({ full: true, hosts: new Set(), changeAt: Date.now(), reason: 'MeshConfig' });
        },
        onNamespaces: (next) => {
          namespaces = next;
          generation++;
          snapshot = rebuild();
          // Namespace labels matter to translation only through discoverySelectors.
          if (mesh.discoverySelectors?.length)
            queue.enqueue({ full: true, hosts: new Set(), changeAt: Date.now(), reason: 'Namespaces' });
        },
        onServices: (services, observedAt) => {
          const changed = changedServices(registryServices, services);
          if (changed.hosts.size === 0) return;
          registryServices = services;
          generation++;
          snapshot = rebuild();
          queue.enqueue({
            full: false,
            hosts: changed.hosts,
            types: changed.endpointsOnly ? [TypeUrl.ClusterLoadAssignment] : undefined,
            changeAt: observedAt ?? Date.now(),
            reason: 'Kubernetes services',
          });
        },
      })
    : undefined;
  await kubeSource?.start();
  const meshWatch = options.meshConfigFile
    ? watchMeshConfig(
        options.meshConfigFile,
        (next) => {
          fileMesh = next;
          if (configMapMesh) return; // the ConfigMap wins while it exists
          mesh = next;
          generation++;
          snapshot = rebuild();
          log.info('mesh config changed', { file: options.meshConfigFile });
          queue.enqueue({ full: true, hosts: new Set(), changeAt: Date.now(), reason: 'MeshConfig' });
        },
        (err) =>
          log.warn('mesh config not reloaded; keeping the previous one', {
            file: options.meshConfigFile,
            error: String(err),
          }),
        options.settleMs ?? 100,
      )
    : undefined;
  snapshot = rebuild();
  queue.stop(); // the initial load needs no push: nobody is connected yet
  trace?.take();

  const problems = (): Problem[] => [
    ...(dirSource?.problems() ?? []),
    ...(kubeSource?.currentProblems() ?? []),
  ];
  const xdsAddress = await xds.listen(options.xdsAddr ?? '0.0.0.0:15010');
  const ca = options.ca
    ? await startEmbeddedCa({
        ...options.ca,
        kubeconfig: options.kubeconfig,
        trustDomain: mesh.trustDomain,
        ads: { definition: xds.adsDefinition, handlers: xds.adsHandlers },
        log: log.scope('ca'),
      })
    : undefined;
  const webhooks =
    options.webhook && ca
      ? await startWebhooks({
          ...options.webhook,
          ca,
          kubeconfig: options.kubeconfig,
          mesh: () => mesh,
          namespaces: () => namespaces,
          log: log.scope('webhook'),
          registry: metrics.registry,
        })
      : undefined;
  let ready = true;
  const syncz = (): Syncz => ({
    controlPlaneVersion: SKEIN_VERSION,
    configVersion: snapshot.version,
    proxies: xds.connections.map((c) => c.syncz()),
  });
  const http = new DebugServer({
    metrics,
    ready: () => ready,
    syncz,
    configz: () => ({ objects: store.list(), rejected: problems() }),
    configDump: (id) => xds.configDump(id),
  });
  const httpAddress = await http.listen(options.httpAddr ?? '0.0.0.0:15014');
  log.info('skeind started', {
    xds: xdsAddress,
    http: httpAddress,
    configDir: options.configDir,
    objects: store.list().length,
    version: SKEIN_VERSION,
  });

  return {
    xdsAddress,
    httpAddress,
    ca,
    webhooks,
    store,
    snapshot: () => snapshot,
    syncz,
    rejected: problems,
    flush: () => queue.flushNow(),
    stop: async () => {
      ready = false;
      queue.stop();
      meshWatch?.close();
      await dirSource?.stop();
      await kubeSource?.stop();
      secretAccess?.stop();
      await Promise.all([xds.close(), http.close(), ca?.close(), webhooks?.close()]);
      log.info('skeind stopped');
    },
  };
}

/** Hostnames whose Kubernetes service changed, and whether only their endpoints did. */
function changedServices(
  before: readonly Service[],
  after: readonly Service[],
): { hosts: Set<string>; endpointsOnly: boolean } {
  const key = (s: Service) => `${s.hostname}|${s.origin}`;
  const old = new Map(before.map((s) => [key(s), s]));
  const hosts = new Set<string>();
  let endpointsOnly = true;
  for (const s of after) {
    const o = old.get(key(s));
    old.delete(key(s));
    if (o && JSON.stringify(o) === JSON.stringify(s)) continue;
    hosts.add(s.hostname);
    if (
      !o ||
      JSON.stringify({ ...o, workloads: [] }) !== JSON.stringify({ ...s, workloads: [] }) ||
      clusterFactsOfWorkloads(o) !== clusterFactsOfWorkloads(s)
    )
      endpointsOnly = false;
  }
  for (const s of old.values()) {
    hosts.add(s.hostname);
    endpointsOnly = false;
  }
  return { hosts, endpointsOnly };
}
