// The running proxy: assembles the bootstrap's static resources, the cluster and listener
// managers, the xDS client and the admin server, and applies xDS updates (validate the whole
// batch, then swap; reject and keep the last good configuration on any error).
import { EventEmitter } from 'node:events';
import type http from 'node:http';
import {
  TypeUrl,
  type clusterV3,
  type endpointV3,
  type listenerV3,
  type routeV3,
  type tlsSecretV3,
} from '@skein/api-types';
import { canonicalBootstrap, type BootstrapJson } from './bootstrap/load-bootstrap.js';
import {
  cluster as clusterSpec,
  listener as listenerSpec,
  routeConfiguration as routeSpec,
  unsupportedFields,
  type FieldSpec,
} from './bootstrap/supported-fields.js';
import { ClusterManager } from './cluster/cluster-manager.js';
import { ListenerManager } from './listener/listener-manager.js';
import { ActiveListener, type OriginalDstResolver } from './listener/active-listener.js';
import { nativeOriginalDst } from './listener/original-dst.js';
import { compileRouteTable, type RouteTable } from './router/route-table.js';
import { StatsStore, type Stat } from './stats/stats-store.js';
import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import { IstioMetrics, promClient } from './stats/istio-metrics.js';
import { workloadFromNode } from './stats/workload-metadata.js';
import { ResourceStore } from './xds/resource-store.js';
import { AdsClient } from './xds/ads-client.js';
import type { XdsResource, XdsSink } from './xds/xds-sink.js';
import { usesVhds, VhdsRoutes, VIRTUAL_HOST_TYPE } from './xds/vhds-routes.js';
import { sdsDeltaClusters } from './xds/sds-api-type.js';
import { InitialFetchTimers, initialFetchTimeoutMs } from './xds/initial-fetch.js';
import { SDS_INITIAL_FETCH_TIMED_OUT, sdsFetchTimeouts } from './xds/sds-initial-fetch.js';
import { durationMs } from './util/duration.js';
import { createAdminServer, type AdminTarget } from './admin/admin-server.js';
import { renderConfigDump } from './admin/config-dump.js';
import { LogHub, type LogLevel, type LogSink, type Logger } from './util/logger.js';
import { toNetAddress, formatNetAddress } from './util/address.js';
import { isAvailable } from './endpoint/host.js';
import { closeAccessLogFiles } from './access-log/access-logger.js';
import type { ProxyContext, TraceProviderJson } from './http-connection-manager/proxy-context.js';
import { Tracing } from './tracing/tracer.js';
import { SKEIN_VERSION } from '@skein/api-types';
import { SecretStore } from './transport-socket/secret-store.js';
import { sdsReferences } from './transport-socket/sds-references.js';
import { preloadFor } from './util/optional-modules.js';

export interface ProxyOptions {
  logLevel?: LogLevel;
  logSink?: LogSink;
  /** Recovers SO_ORIGINAL_DST for use_original_dst listeners (default: the native reader, if available). */
  originalDst?: OriginalDstResolver;
  /** Use delta ADS instead of state of the world. */
  deltaXds?: boolean;
  /** Called on /quitquitquit after the proxy stopped (the binary exits there). */
  onQuit?: () => void;
  /** Reconnect backoff bounds for the xDS stream. */
  xdsBackoffMs?: { base: number; max: number };
  /**
   * Worker threads (`--concurrency`): the primary runs xDS, SDS and admin and forwards every
   * accepted update (`onApplied`); a worker applies forwarded updates (`applyForwarded`). Both
   * bind listeners with SO_REUSEPORT.
   */
  worker?: { id: number; role: 'primary' | 'worker' };
  onApplied?: (u: ForwardedUpdate) => void;
  /** Stats of the other workers, merged into admin output by the primary. */
  peerStats?: () => Promise<{ raw: Stat[]; istio: MetricObjectWithValues<MetricValue<string>>[] }[]>;
}

/** An accepted xDS update as the primary forwards it to worker threads. */
export interface ForwardedUpdate {
  typeUrl: string;
  resources: XdsResource[];
  version: string;
  full: boolean;
  removed: string[];
  /** The primary's listener ports by name, for the workers' port-0 listeners (see ListenerManager). */
  ports?: Record<string, number>;
}

export interface XdsEvent {
  typeUrl: string;
  version: string;
  accepted: boolean;
  error?: string;
}

const TYPE_ORDER = [
  TypeUrl.Cluster,
  TypeUrl.ClusterLoadAssignment,
  TypeUrl.Listener,
  TypeUrl.RouteConfiguration,
  VIRTUAL_HOST_TYPE,
  TypeUrl.Secret,
];

/** A proxy started in this process. Emits 'xds' (XdsEvent) after each applied or rejected update. */
export class RunningProxy extends EventEmitter<{ xds: [XdsEvent]; ready: [] }> {
  readonly store = new ResourceStore();
  readonly secrets = new SecretStore();
  readonly tracing = new Tracing();
  private readonly sdsClients = new Map<string, AdsClient>();
  /** Secret names the listeners and clusters ask for over ADS (`sds_config: { ads: {} }`). */
  private adsSecretNames: string[] = [];
  readonly stats = new StatsStore();
  readonly istio = new IstioMetrics();
  readonly logs: LogHub;
  readonly clusters: ClusterManager;
  readonly listenerManager: ListenerManager;
  private readonly routeTables = new Map<string, RouteTable>();
  /** Route configurations whose virtual hosts come over VHDS, and those virtual hosts. */
  private readonly vhds = new VhdsRoutes();
  /** Whether the ADS stream is delta (VHDS needs it). */
  private deltaAds = false;
  private readonly log: Logger;
  private ads: AdsClient | undefined;
  /** start() is through without ADS: readiness waits only for warming static resources. */
  private staticStarted = false;
  /** The start is over and the held listeners are binding (Envoy's workers starting). */
  private serving: Promise<void> | undefined;
  /** CDS and LDS initial_fetch_timeout: the start carries on without a type that never answers. */
  private readonly initialFetch = new InitialFetchTimers((typeUrl) => {
    this.log.warn('initial fetch timed out: the start carries on without it', { type: shortType(typeUrl) });
    // Envoy's subscription stat: cluster_manager.cds.init_fetch_timeout, listener_manager.lds.…
    const short = shortType(typeUrl);
    this.stats.inc(`${short === 'lds' ? 'listener_manager' : 'cluster_manager'}.${short}.init_fetch_timeout`);
    this.ads?.refreshSubscriptions();
    this.checkInitialized();
  });
  /** Each SDS secret's initial_fetch_timeout, from its subscription's start (primary only). */
  private readonly sdsInitialFetch = new InitialFetchTimers((name) => this.sdsFetchTimedOut(name));
  private admin: http.Server | undefined;
  private readonly startedAt = new Date();
  private draining = false;
  private initialized = false;
  private stopped = false;
  /** Types that have received at least one accepted response. */
  private readonly received = new Set<string>();
  readonly ctx: ProxyContext;
  private readonly reported = new Set<string>();
  /** Worker threads: the ports of the primary's listeners, by name (it binds a port 0 first). */
  private readonly primaryPorts = new Map<string, number>();

  constructor(
    readonly bootstrap: BootstrapJson,
    readonly unsupported: readonly string[],
    private readonly options: ProxyOptions,
  ) {
    super();
    this.logs = new LogHub(options.logLevel ?? 'info', options.logSink);
    this.log = this.logs.scope('proxy');
    this.setServerState('INITIALIZING');
    const stats = this.stats;
    this.clusters = new ClusterManager(
      {
        onEject: (cluster, host, why, enforced, overflow) => {
          const ct = { envoy_cluster_name: cluster };
          if (why === 'uneject') {
            stats.gaugeAdd('cluster.{envoy_cluster_name}.outlier_detection.ejections_active', ct, -1);
            this.log.info('host returned', { cluster, host: host.key });
            return;
          }
          stats.inc(`cluster.{envoy_cluster_name}.outlier_detection.ejections_detected_${why}`, ct);
          if (overflow) stats.inc('cluster.{envoy_cluster_name}.outlier_detection.ejections_overflow', ct);
          if (!enforced) return;
          stats.inc('cluster.{envoy_cluster_name}.outlier_detection.ejections_enforced_total', ct);
          stats.inc(`cluster.{envoy_cluster_name}.outlier_detection.ejections_enforced_${why}`, ct);
          stats.gaugeAdd('cluster.{envoy_cluster_name}.outlier_detection.ejections_active', ct, 1);
          this.log.info('host ejected', { cluster, host: host.key, why, ejections: host.ejections });
        },
        onConnect: (cluster) =>
          stats.inc('cluster.{envoy_cluster_name}.upstream_cx_total', { envoy_cluster_name: cluster }),
        onMaxConnectionDuration: (cluster) =>
          stats.inc('cluster.{envoy_cluster_name}.upstream_cx_max_duration_reached', {
            envoy_cluster_name: cluster,
          }),
        // A cluster that finished warming may complete CDS (LDS waits for it) or the start.
        onWarm: () => {
          this.clusterGauges();
          this.ads?.refreshSubscriptions();
          if (this.ads) this.checkInitialized();
          else this.markStaticInitialized();
        },
        onHealthCheck: (cluster, host, event) => {
          const ct = { envoy_cluster_name: cluster };
          if (event === 'healthy' || event === 'unhealthy') {
            this.log.info(`health check: host ${event}`, { cluster, host: host?.key ?? '' });
            stats.gaugeAdd(
              'cluster.{envoy_cluster_name}.health_check.healthy',
              ct,
              event === 'healthy' ? 1 : -1,
            );
            return;
          }
          stats.inc(`cluster.{envoy_cluster_name}.health_check.${event}`, ct);
        },
      },
      this.secrets,
    );
    const routeTable = (name: string): RouteTable | undefined => this.routeTables.get(name);
    this.ctx = {
      clusters: this.clusters,
      routeTable,
      stats,
      istio: this.istio,
      local: workloadFromNode(bootstrap.node?.metadata as Record<string, unknown> | undefined),
      nodeId: bootstrap.node?.id ?? '',
      log: this.logs.scope('data-path'),
      secrets: this.secrets,
      workerId: options.worker?.id ?? 0,
      tracing: this.tracing,
      defaultTraceProvider: bootstrap.tracing?.http as TraceProviderJson | undefined,
    };
    this.listenerManager = new ListenerManager(
      this.ctx,
      options.originalDst ?? nativeOriginalDst() ?? (() => undefined),
      (n) => this.routeTables.has(n),
      options.worker !== undefined,
      // A listener whose RDS wait ran out may complete the start.
      () => (this.ads ? this.checkInitialized() : this.markStaticInitialized()),
      options.worker?.role === 'worker' ? (name) => this.primaryPorts.get(name) : undefined,
    );
    // A secret that arrives may complete a warming listener (clusters: the cluster manager's own).
    this.secrets.onChange((name) => {
      this.sdsInitialFetch.done(name);
      this.clusterGauges();
      if (this.listenerManager.warmingNames().length === 0) return;
      void this.listenerManager.routesChanged().then(() => {
        if (this.ads) this.checkInitialized();
        else this.markStaticInitialized();
      });
    });
  }

  async start(): Promise<void> {
    const now = new Date();
    const sr = this.bootstrap.staticResources ?? {};
    for (const c of sr.clusters ?? []) {
      this.clusters.addStatic(c);
      this.store.clusters.set(c.name ?? '', c, '', true, now);
    }
    this.clusterGauges();
    for (const s of sr.secrets ?? []) {
      this.store.secrets.set(s.name ?? '', s, '', true, now);
      this.secrets.set(s.name ?? '', s);
    }
    await preloadFor(sr.listeners ?? [], this.tracing);
    for (const l of sr.listeners ?? []) {
      for (const r of inlineRoutes(l)) this.store.routes.set(r.name ?? '', r, '', true, now);
      await this.listenerManager.addStatic(l);
      this.store.listeners.set(l.name ?? '', l, '', true, now);
    }
    if (this.options.worker?.role === 'worker') {
      // Configuration arrives from the primary through applyForwarded; listeners bind when the
      // primary's start is over (serveHeld).
      return;
    }
    await this.startAdmin();
    this.refreshSds();
    const ads = this.bootstrap.dynamicResources?.adsConfig;
    if (ads) {
      const clusterName = ads.grpcServices?.[0]?.envoyGrpc?.clusterName;
      const cluster = clusterName ? sr.clusters?.find((c) => c.name === clusterName) : undefined;
      if (!cluster)
        throw new Error(`dynamic_resources.ads_config: static cluster ${clusterName ?? '(none)'} not found`);
      const ep = cluster.loadAssignment?.endpoints?.[0]?.lbEndpoints?.[0]?.endpoint?.address;
      const a = toNetAddress(ep, `cluster ${cluster.name ?? ''}`);
      const target = a.kind === 'pipe' ? `unix:${a.path}` : formatNetAddress(a);
      this.ads = new AdsClient({
        target,
        node: this.bootstrap.node ?? {},
        sink: this.sink(),
        log: this.logs.scope('xds'),
        delta: (this.deltaAds = this.options.deltaXds === true || ads.apiType === 'DELTA_GRPC'),
        ...(this.options.xdsBackoffMs
          ? { backoffBaseMs: this.options.xdsBackoffMs.base, backoffMaxMs: this.options.xdsBackoffMs.max }
          : {}),
        onEvent: (typeUrl, ev) => {
          const short = typeUrl ? shortType(typeUrl) : 'ads';
          if (ev === 'connected' || ev === 'disconnected') this.stats.inc(`control_plane.${ev}_total`);
          else this.stats.inc(`cluster_manager.${short}.${ev}`);
        },
      });
      this.ads.start();
      this.initialFetch.arm(
        TypeUrl.Cluster,
        initialFetchTimeoutMs(this.bootstrap.dynamicResources?.cdsConfig, durationMs),
      );
    } else {
      this.staticStarted = true;
      this.markStaticInitialized();
    }
    // else: static listeners wait for SDS secrets (see the secrets' onChange above), static
    // clusters for their warming (onWarm). A start over at once binds its listeners before
    // start() returns, so a listener that cannot bind fails the start.
    if (this.serving) await this.serving;
  }

  /**
   * Envoy's `cluster_manager.active_clusters` / `warming_clusters` gauges (the primary's alone): as
   * Envoy's, static clusters are active from the start (they still hold the start while they warm).
   */
  private clusterGauges(): void {
    if (this.options.worker?.role === 'worker') return;
    this.stats.gaugeSet('cluster_manager.warming_clusters', {}, this.clusters.warmingCount);
    this.stats.gaugeSet('cluster_manager.active_clusters', {}, this.clusters.all().length);
  }

  /** Without ADS: ready once start() is through and no static listener or cluster is warming. */
  private markStaticInitialized(): void {
    if (!this.staticStarted || this.listenerManager.warmingNames().length > 0) return;
    if (this.clusters.warming().length === 0) this.markInitialized();
  }

  /**
   * The start is over (Envoy's init manager done): the held listeners bind, then the proxy is LIVE
   * and ready. Envoy binds at creation and listens only here; Node binds and listens in one call,
   * so a listener is bound here (a port 0 gets its number now).
   */
  private markInitialized(): void {
    if (this.serving || this.stopped) return;
    const serving = this.listenerManager.startServing().then(() => {
      if (this.stopped) return;
      this.initialized = true;
      this.setServerState(this.draining ? 'DRAINING' : 'LIVE');
      this.log.info('proxy initialized');
      this.emit('ready');
    });
    this.serving = serving;
    serving.catch((err: unknown) =>
      this.log.error('a listener failed to start at the end of the start', {
        error: err instanceof Error ? err.message : String(err),
      }),
    );
  }

  /** Worker threads: the primary's start is over, bind the listeners held until now. */
  serveHeld(ports?: Record<string, number>): Promise<void> {
    this.learnPorts(ports);
    this.markInitialized();
    return this.serving ?? Promise.resolve();
  }

  /** Envoy's `server.state` gauge: 0 live, 1 draining, 2 pre-initializing, 3 initializing. */
  private setServerState(state: 'LIVE' | 'DRAINING' | 'INITIALIZING'): void {
    // The primary's alone: admin sums the workers' gauges into its own.
    if (this.options.worker?.role === 'worker') return;
    const value = { LIVE: 0, DRAINING: 1, INITIALIZING: 3 }[state];
    this.stats.gaugeSet('server.state', {}, value);
  }

  /** A type's first response arrived, or its initial_fetch_timeout ran out. */
  private settled(typeUrl: string): boolean {
    return this.received.has(typeUrl) || this.initialFetch.expired(typeUrl);
  }

  private checkInitialized(): void {
    if (this.serving) return;
    const dyn = this.bootstrap.dynamicResources;
    const needLds = dyn?.ldsConfig !== undefined || dyn?.adsConfig !== undefined;
    const cdsDone = this.settled(TypeUrl.Cluster) && this.clusters.warming().length === 0;
    // LDS is asked for once CDS is done: its wait starts then.
    if (cdsDone && needLds)
      this.initialFetch.arm(TypeUrl.Listener, initialFetchTimeoutMs(dyn?.ldsConfig, durationMs));
    const ldsDone =
      (!needLds || this.settled(TypeUrl.Listener)) && this.listenerManager.warmingNames().length === 0;
    if (cdsDone && ldsDone) this.markInitialized();
  }

  /** Resolves when the first full configuration is in (Envoy's init manager done). */
  waitReady(): Promise<void> {
    if (this.initialized) return Promise.resolve();
    return new Promise((resolve) => this.once('ready', resolve));
  }

  get isReady(): boolean {
    return this.initialized;
  }

  private sink(): XdsSink {
    return {
      order: TYPE_ORDER,
      wanted: (typeUrl) => {
        if (typeUrl === TypeUrl.Cluster || typeUrl === TypeUrl.Listener) return '*';
        if (typeUrl === TypeUrl.ClusterLoadAssignment) return this.clusters.edsNames();
        if (typeUrl === TypeUrl.RouteConfiguration) return this.listenerManager.routeNames();
        if (typeUrl === VIRTUAL_HOST_TYPE) return this.vhds.wanted();
        if (typeUrl === TypeUrl.Secret) return this.adsSecretNames;
        return [];
      },
      canSubscribe: (typeUrl) => {
        // Envoy's order: LDS only after CDS has warmed (its clusters have endpoints).
        if (typeUrl === TypeUrl.Listener)
          return this.settled(TypeUrl.Cluster) && this.clusters.warming().length === 0;
        // VHDS is delta only.
        if (typeUrl === VIRTUAL_HOST_TYPE) return this.deltaAds;
        return true;
      },
      apply: (typeUrl, resources, version, full, removed) =>
        this.applyXds(typeUrl, resources, version, full, removed),
    };
  }

  private async applyXds(
    typeUrl: string,
    resources: XdsResource[],
    version: string,
    full: boolean,
    removed: string[],
  ): Promise<string | undefined> {
    let error: string | undefined;
    try {
      error = await this.applyUpdate(typeUrl, resources, version, full, removed);
    } catch (err) {
      error = err instanceof Error ? err.message : String(err);
    }
    if (error === undefined) {
      this.options.onApplied?.({ typeUrl, resources, version, full, removed });
      this.received.add(typeUrl);
      this.initialFetch.done(typeUrl);
      if (typeUrl === TypeUrl.Listener || typeUrl === TypeUrl.Cluster) this.refreshSds();
    } else if (!this.received.has(typeUrl) && (typeUrl === TypeUrl.Cluster || typeUrl === TypeUrl.Listener)) {
      // Envoy's start counts a rejected first response as the response: it carries on.
      this.initialFetch.failed(typeUrl);
      this.ads?.refreshSubscriptions();
    }
    this.emit('xds', {
      typeUrl,
      version,
      accepted: error === undefined,
      ...(error !== undefined ? { error } : {}),
    });
    this.checkInitialized();
    return error;
  }

  /** Applies an update the primary accepted (worker threads); resolves with the outcome. */
  async applyForwarded(u: ForwardedUpdate): Promise<string | undefined> {
    this.learnPorts(u.ports);
    if (u.typeUrl === SDS_INITIAL_FETCH_TIMED_OUT) {
      await this.secretWaitsOver(u.removed);
      return undefined;
    }
    return this.applyXds(u.typeUrl, u.resources, u.version, u.full, u.removed);
  }

  /** The ports the primary's listeners are bound to, by name (the primary forwards them). */
  listenerPorts(): Record<string, number> {
    return this.listenerManager.boundPorts();
  }

  private learnPorts(ports: Record<string, number> | undefined): void {
    for (const [name, port] of Object.entries(ports ?? {})) this.primaryPorts.set(name, port);
  }

  /** Envoy stats and Istio metrics of this proxy and, on the primary, of every worker, summed. */
  private async mergedStats(): Promise<{ stats: StatsStore; istio: string }> {
    const peers = this.options.peerStats ? await this.options.peerStats() : [];
    if (peers.length === 0) return { stats: this.stats, istio: await this.istio.prometheus() };
    const stats = StatsStore.merged([this.stats.raw(), ...peers.map((p) => p.raw)]);
    const all = [await this.istio.registry.getMetricsAsJSON(), ...peers.map((p) => p.istio)];
    const istio = await promClient().AggregatorRegistry.aggregate(all).metrics();
    return { stats, istio };
  }

  /** Logs (once per resource version) and counts fields of an xDS resource we do not implement. */
  private reportUnsupported(
    kind: string,
    name: string,
    version: string,
    json: unknown,
    spec: FieldSpec,
  ): void {
    const fields = unsupportedFields(json, spec, '');
    const key = `${kind}/${name}@${version}`;
    if (fields.length === 0 || this.reported.has(key)) return;
    this.reported.add(key);
    this.stats.inc('skein.xds.unsupported_fields', {}, fields.length);
    this.log.warn('xds resource sets fields skein-proxy does not implement', { kind, name, version, fields });
  }

  private async applyUpdate(
    typeUrl: string,
    resources: XdsResource[],
    version: string,
    full: boolean,
    removed: string[],
  ): Promise<string | undefined> {
    const now = new Date();
    switch (typeUrl) {
      case TypeUrl.Cluster: {
        const list = resources.map((r) => r.json as clusterV3.ClusterJson);
        const newer = resources.find((r) => r.unknownFields !== undefined && r.unknownFields.length > 0);
        if (newer) return unknownClusterFields(newer.name, newer.unknownFields ?? []);
        for (const c of list) {
          this.reportUnsupported('cluster', c.name ?? '', version, c, clusterSpec);
          try {
            ClusterManager.validate(c);
          } catch (err) {
            return `cluster ${c.name ?? ''}: ${err instanceof Error ? err.message : String(err)}`;
          }
        }
        const next = full ? list : mergeDelta(this.dynamicOf(this.store.clusters.entries), list, removed);
        this.clusters.setDynamic(next);
        this.clusterGauges();
        replaceDynamic(this.store.clusters, next, version, now, (c) => c.name ?? '');
        this.store.clusters.versionInfo = version;
        return undefined;
      }
      case TypeUrl.ClusterLoadAssignment: {
        for (const r of resources) {
          const cla = r.json as endpointV3.ClusterLoadAssignmentJson;
          this.clusters.setAssignment(cla);
          this.store.endpoints.set(cla.clusterName ?? r.name, cla, version, false, now);
        }
        for (const n of removed) this.store.endpoints.delete(n);
        this.store.endpoints.versionInfo = version;
        return undefined;
      }
      case TypeUrl.Listener: {
        const list = resources.map((r) => r.json as listenerV3.ListenerJson);
        await preloadFor(list, this.tracing);
        for (const l of list) {
          this.reportUnsupported('listener', l.name ?? '', version, l, listenerSpec);
          try {
            ActiveListener.validate(l, this.ctx);
          } catch (err) {
            return `listener ${l.name ?? ''}: ${err instanceof Error ? err.message : String(err)}`;
          }
        }
        const next = full ? list : mergeDelta(this.dynamicOf(this.store.listeners.entries), list, removed);
        try {
          await this.listenerManager.setDynamic(next);
        } catch (err) {
          return `listener update: ${err instanceof Error ? err.message : String(err)}`;
        }
        replaceDynamic(this.store.listeners, next, version, now, (l) => l.name ?? '');
        this.store.listeners.versionInfo = version;
        return undefined;
      }
      case TypeUrl.RouteConfiguration: {
        const compiled: [string, RouteTable, routeV3.RouteConfigurationJson][] = [];
        for (const r of resources) {
          const rc = r.json as routeV3.RouteConfigurationJson;
          this.reportUnsupported('route', rc.name ?? '', version, rc, routeSpec);
          try {
            compiled.push([rc.name ?? r.name, compileRouteTable(rc), rc]);
          } catch (err) {
            return `route configuration ${rc.name ?? ''}: ${err instanceof Error ? err.message : String(err)}`;
          }
        }
        for (const [name, table, rc] of compiled) {
          if (usesVhds(rc)) {
            // Installed once its virtual hosts have arrived over VHDS (until then it warms).
            const merged = this.vhds.setBase({ ...rc, name });
            if (merged) {
              this.routeTables.set(name, merged.table);
              this.store.routes.set(name, merged.config, version, false, now);
            }
            continue;
          }
          this.vhds.removeBase(name);
          this.routeTables.set(name, table);
          this.store.routes.set(name, rc, version, false, now);
        }
        for (const n of removed) {
          this.vhds.removeBase(n);
          this.routeTables.delete(n);
          this.store.routes.delete(n);
        }
        this.store.routes.versionInfo = version;
        await this.listenerManager.routesChanged();
        return undefined;
      }
      case VIRTUAL_HOST_TYPE: {
        const staged = this.vhds.stage(resources, removed);
        if (!staged.ok) return staged.error;
        staged.commit();
        // One synchronous swap: requests see every changed route configuration or none.
        for (const c of staged.compiled) {
          this.routeTables.set(c.name, c.table);
          this.store.routes.set(c.name, c.config, version, false, now);
        }
        await this.listenerManager.routesChanged();
        return undefined;
      }
      case TypeUrl.Secret: {
        for (const r of resources) {
          this.store.secrets.set(r.name, r.json as tlsSecretV3.SecretJson, version, false, now);
          this.secrets.set(r.name, r.json as tlsSecretV3.SecretJson);
        }
        this.secretsRemoved(removed);
        return undefined;
      }
      default:
        return `unsupported type ${typeUrl}`;
    }
  }

  /** Delta SDS `removed_resources`: acknowledged and ignored for held secrets, as Envoy (secret-store.ts). */
  private secretsRemoved(names: readonly string[]): void {
    for (const name of names) {
      const held = this.secrets.removedByServer(name);
      this.log.info(
        held
          ? 'SDS removed a secret in use: ignored, it keeps serving (as Envoy)'
          : 'SDS removed a secret never received: listeners waiting for it stop warming',
        { secret: name },
      );
    }
  }

  /**
   * An SDS secret's initial_fetch_timeout ran out before it arrived (primary): the listeners
   * waiting for it stop waiting, here and on the worker threads, as Envoy's SDS init target.
   */
  private sdsFetchTimedOut(name: string): void {
    if (this.stopped || this.secrets.settled(name)) return;
    const all = [...this.store.listeners.entries.values(), ...this.store.clusters.entries.values()];
    if (!sdsFetchTimeouts(all.map((e) => e.resource)).has(name)) return; // no longer referenced
    this.stats.inc(`sds.${name}.init_fetch_timeout`);
    this.logs
      .scope('sds')
      .warn('SDS initial fetch timed out: listeners and clusters waiting for it go on without it', {
        secret: name,
      });
    this.options.onApplied?.({
      typeUrl: SDS_INITIAL_FETCH_TIMED_OUT,
      resources: [],
      version: '',
      full: false,
      removed: [name],
    });
    void this.secretWaitsOver([name]).then(
      () => (this.ads ? this.checkInitialized() : this.markStaticInitialized()),
      () => {},
    );
  }

  private async secretWaitsOver(names: readonly string[]): Promise<void> {
    for (const n of names) {
      this.clusters.secretWaitOver(n);
      await this.listenerManager.secretWaitOver(n);
    }
  }

  /** Starts or updates one SDS stream per SDS cluster, for every secret name any TLS context needs. */
  private refreshSds(): void {
    // Worker threads get their secrets from the primary.
    if (this.options.worker?.role === 'worker') return;
    const all = [...this.store.listeners.entries.values(), ...this.store.clusters.entries.values()].map(
      (e) => e.resource,
    );
    const byCluster = new Map<string, Set<string>>();
    // Each secret's initial_fetch_timeout runs from its subscription's start (here), once.
    for (const [name, ms] of sdsFetchTimeouts(all))
      if (!this.secrets.settled(name)) this.sdsInitialFetch.arm(name, ms);
    const delta = sdsDeltaClusters(all);
    const refs = sdsReferences(all);
    // Secrets with `sds_config: { ads: {} }` are requested on the ADS stream itself.
    const overAds = [...new Set(refs.filter((r) => r.ads).map((r) => r.name))].sort();
    if (overAds.join('\n') !== this.adsSecretNames.join('\n')) {
      this.adsSecretNames = overAds;
      this.ads?.refreshSubscriptions();
    }
    for (const ref of refs) {
      if (!ref.sdsCluster) continue;
      const set = byCluster.get(ref.sdsCluster) ?? new Set<string>();
      set.add(ref.name);
      byCluster.set(ref.sdsCluster, set);
    }
    for (const [clusterName, names] of byCluster) {
      let client = this.sdsClients.get(clusterName);
      if (!client) {
        const cluster = this.bootstrap.staticResources?.clusters?.find((c) => c.name === clusterName);
        const ep = cluster?.loadAssignment?.endpoints?.[0]?.lbEndpoints?.[0]?.endpoint?.address;
        if (!ep) {
          this.log.warn('SDS cluster not found among static clusters', { cluster: clusterName });
          continue;
        }
        const a = toNetAddress(ep, `cluster ${clusterName}`);
        const wanted = { names: [...names].sort() };
        const sdsLog = this.logs.scope('sds');
        client = new AdsClient({
          target: a.kind === 'pipe' ? `unix:${a.path}` : formatNetAddress(a),
          service: 'sds',
          // DeltaSecrets when the sds_config says DELTA_GRPC (fixed for the stream's life).
          delta: delta.get(clusterName) === true,
          node: this.bootstrap.node ?? {},
          log: sdsLog,
          ...(this.options.xdsBackoffMs
            ? { backoffBaseMs: this.options.xdsBackoffMs.base, backoffMaxMs: this.options.xdsBackoffMs.max }
            : {}),
          sink: {
            order: [TypeUrl.Secret],
            canSubscribe: () => true,
            wanted: () => wanted.names,
            apply: async (typeUrl, resources, version, _full, removed) => {
              const now = new Date();
              for (const r of resources) {
                const secret = r.json as tlsSecretV3.SecretJson;
                this.secrets.set(r.name, secret);
                this.store.secrets.set(r.name, secret, version, false, now);
              }
              this.secretsRemoved(removed);
              this.emit('xds', { typeUrl, version, accepted: true });
              this.options.onApplied?.({ typeUrl, resources, version, full: false, removed });
              return undefined;
            },
          },
          onEvent: (_t, ev) => this.stats.inc(`sds.${ev}`),
        });
        (client as AdsClient & { wantedRef?: { names: string[] } }).wantedRef = wanted;
        this.sdsClients.set(clusterName, client);
        sdsLog.info('SDS stream', {
          cluster: clusterName,
          protocol: delta.get(clusterName) ? 'delta' : 'sotw',
        });
        client.start();
      } else {
        const ref = (client as AdsClient & { wantedRef?: { names: string[] } }).wantedRef;
        if (ref) ref.names = [...names].sort();
        client.refreshSubscriptions();
      }
    }
  }

  private dynamicOf<T>(entries: Map<string, { resource: T; isStatic: boolean }>): T[] {
    return [...entries.values()].filter((e) => !e.isStatic).map((e) => e.resource);
  }

  private async startAdmin(): Promise<void> {
    const a = this.bootstrap.admin?.address;
    if (!a) return;
    const addr = toNetAddress(a, 'admin');
    const server = createAdminServer(this.adminTarget());
    this.admin = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      if (addr.kind === 'pipe') server.listen(addr.path, resolve);
      else server.listen(addr.port, addr.host, resolve);
    });
  }

  /** The admin server's bound address. */
  get adminAddress(): { address: string; port: number } | undefined {
    const a = this.admin?.address();
    return a && typeof a === 'object' ? { address: a.address, port: a.port } : undefined;
  }

  /** The bound address of a listener by name (its real port when configured with port 0). */
  listenerAddress(name: string): { address: string; port: number } | undefined {
    return this.listenerManager.get(name)?.boundAddress();
  }

  configDump(includeEds = false): string {
    const warming = new Map<string, unknown>(this.listenerManager.warmingNames().map((n) => [n, true]));
    return renderConfigDump({
      bootstrap: this.bootstrap,
      bootstrapTime: this.startedAt,
      store: this.store,
      warmingListeners: warming,
      warmingClusters: this.clusters.warming(),
      includeEds,
    });
  }

  private adminTarget(): AdminTarget {
    return {
      logs: this.logs,
      configDump: (eds) => this.configDump(eds),
      clustersText: () => {
        const now = Date.now();
        const lines: string[] = [];
        for (const c of this.clusters.all().sort((a, b) => a.name.localeCompare(b.name))) {
          const l = c.circuitBreaker.limits;
          lines.push(`${c.name}::default_priority::max_connections::${l.maxConnections}`);
          lines.push(`${c.name}::default_priority::max_pending_requests::${l.maxPendingRequests}`);
          lines.push(`${c.name}::default_priority::max_requests::${l.maxRequests}`);
          lines.push(`${c.name}::default_priority::max_retries::${l.maxRetries}`);
          for (const h of c.hosts) {
            const p = `${c.name}::${h.key}`;
            // Envoy lists every failed health flag, or "healthy".
            const flags =
              [
                h.failedActiveHc ? '/failed_active_hc' : '',
                h.ejectedUntil > now ? '/failed_outlier_check' : '',
                !h.healthy ? '/failed_eds_health' : '',
              ].join('') || 'healthy';
            lines.push(
              `${p}::rq_active::${h.activeRequests}`,
              `${p}::health_flags::${flags}`,
              `${p}::weight::${h.weight}`,
              `${p}::priority::${h.priority}`,
            );
          }
        }
        return lines.join('\n') + '\n';
      },
      clustersJson: () => {
        const now = Date.now();
        return {
          cluster_statuses: this.clusters.all().map((c) => ({
            name: c.name,
            host_statuses: c.hosts.map((h) => ({
              address: { socket_address: { address: h.address, port_value: h.port } },
              health_status: {
                eds_health_status: h.healthy ? 'HEALTHY' : 'UNHEALTHY',
                failed_outlier_check: h.ejectedUntil > now,
                failed_active_health_check: h.failedActiveHc,
              },
              weight: h.weight,
              priority: h.priority,
              available: isAvailable(h, now),
            })),
          })),
        };
      },
      listeners: () => this.listenerManager.statuses(),
      statsText: async (f) => (await this.mergedStats()).stats.text(f),
      statsJson: async () => (await this.mergedStats()).stats.json(),
      prometheus: async () => {
        const m = await this.mergedStats();
        return m.stats.prometheus() + m.istio;
      },
      state: () => (this.draining ? 'DRAINING' : this.initialized ? 'LIVE' : 'INITIALIZING'),
      serverInfo: () => ({
        version: `skein-proxy/${SKEIN_VERSION}`,
        state: this.draining ? 'DRAINING' : this.initialized ? 'LIVE' : 'INITIALIZING',
        uptime_current_epoch: `${Math.floor((Date.now() - this.startedAt.getTime()) / 1000)}s`,
        node: this.bootstrap.node,
        unsupported_fields: this.unsupported,
      }),
      drainListeners: async () => {
        this.draining = true;
        if (this.initialized) this.setServerState('DRAINING');
        await this.listenerManager.drainAll();
      },
      quit: () => {
        void this.stop().then(() => this.options.onQuit?.());
      },
    };
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.initialFetch.close();
    this.sdsInitialFetch.close();
    this.ads?.stop();
    for (const c of this.sdsClients.values()) c.stop();
    await this.listenerManager.close();
    await this.clusters.close();
    const admin = this.admin;
    if (admin) {
      admin.closeAllConnections();
      await new Promise<void>((r) => admin.close(() => r()));
    }
    await closeAccessLogFiles();
    await this.tracing.close();
  }
}

/**
 * The NACK of a cluster carrying fields newer than this proxy's Envoy API (decoding would drop them
 * silently), such as Envoy 1.37's `transport_socket_matcher` (an xDS matcher tree choosing among
 * `transport_socket_matches`, not implemented: use `transport_socket_matches` alone).
 */
function unknownClusterFields(name: string, numbers: readonly number[]): string {
  return (
    `cluster ${name}: field number${numbers.length > 1 ? 's' : ''} ${numbers.join(', ')} of ` +
    'envoy.config.cluster.v3.Cluster not known to skein-proxy (newer than its Envoy API, e.g. ' +
    'transport_socket_matcher): not supported'
  );
}

function inlineRoutes(l: listenerV3.ListenerJson): routeV3.RouteConfigurationJson[] {
  const out: routeV3.RouteConfigurationJson[] = [];
  for (const fc of l.filterChains ?? []) {
    for (const f of fc.filters ?? []) {
      const rc = (f.typedConfig as { routeConfig?: routeV3.RouteConfigurationJson } | undefined)?.routeConfig;
      if (rc) out.push(rc);
    }
  }
  return out;
}

function mergeDelta<T extends { name?: string }>(current: T[], changed: T[], removed: string[]): T[] {
  const m = new Map(current.map((c) => [c.name ?? '', c]));
  for (const c of changed) m.set(c.name ?? '', c);
  for (const n of removed) m.delete(n);
  return [...m.values()];
}

function replaceDynamic<T>(
  table: {
    entries: Map<string, { isStatic: boolean; resource: T }>;
    set(n: string, r: T, v: string, s: boolean, d: Date): void;
    delete(n: string): boolean;
  },
  list: T[],
  version: string,
  now: Date,
  name: (t: T) => string,
): void {
  const keep = new Set(list.map(name));
  for (const [n, e] of [...table.entries]) if (!e.isStatic && !keep.has(n)) table.delete(n);
  for (const r of list) {
    const n = name(r);
    const prev = table.entries.get(n);
    if (prev && !prev.isStatic && JSON.stringify(prev.resource) === JSON.stringify(r)) continue;
    table.set(n, r, version, false, now);
  }
}

function shortType(typeUrl: string): string {
  if (typeUrl === TypeUrl.Cluster) return 'cds';
  if (typeUrl === TypeUrl.Listener) return 'lds';
  if (typeUrl === TypeUrl.RouteConfiguration) return 'rds';
  if (typeUrl === VIRTUAL_HOST_TYPE) return 'vhds';
  if (typeUrl === TypeUrl.ClusterLoadAssignment) return 'eds';
  return 'other';
}

/**
 * Starts a proxy in this process from a bootstrap object (snake_case or camelCase Envoy v3
 * Bootstrap). Unsupported fields are reported through the returned proxy's `unsupported`.
 */
export async function startProxy(bootstrap: unknown, options: ProxyOptions = {}): Promise<RunningProxy> {
  const loaded = canonicalBootstrap(bootstrap);
  const proxy = new RunningProxy(loaded.bootstrap, loaded.unsupported, options);
  try {
    await proxy.start();
  } catch (err) {
    await proxy.stop();
    throw err;
  }
  return proxy;
}
