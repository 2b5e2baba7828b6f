// A live cluster: its hosts (static, EDS, DNS or original destination), load balancer, circuit
// breaker, outlier detector and connection pools, built from a Cluster resource.
import { upstreamHttpLimitMs } from './upstream-http-options.js';
import type { clusterV3, endpointV3 } from '@skein/api-types';
import { durationMs } from '../util/duration.js';
import { makeHost, type Host } from '../endpoint/host.js';
import { hostsFromAssignment } from '../endpoint/endpoints-from-assignment.js';
import { UpstreamPools, type UpstreamProtocol } from '../endpoint/upstream-pools.js';
import {
  compileSocketMatches,
  compileTransportSocket,
  socketIndexByHost,
  socketMatchApplies,
  type SocketChoice,
} from './transport-socket-matches.js';
import {
  createLoadBalancer,
  lbPolicyOf,
  type LbPolicy,
  type LoadBalancer,
  type PickContext,
} from './load-balancer.js';
import { CircuitBreaker, limitsOf } from './circuit-breaker.js';
import { OutlierDetector, outlierConfigOf, type OutlierEvent } from './outlier-detector.js';
import type { TlsContext } from '../transport-socket/tls-context.js';
import type { SecretStore } from '../transport-socket/secret-store.js';
import {
  HealthChecker,
  healthCheckSpecOf,
  type HealthCheckSpec,
  type ProbeFactory,
} from './health-checker.js';
import { defaultProbes } from './health-probes.js';
import { initialFetchTimeoutMs } from '../xds/initial-fetch.js';
import { sdsReferences } from '../transport-socket/sds-references.js';

export type ClusterType = 'STATIC' | 'EDS' | 'STRICT_DNS' | 'LOGICAL_DNS' | 'ORIGINAL_DST';

export interface ClusterEvents {
  /**
   * Outlier detection found a host (ejected it when `enforced`; left it in for want of room under
   * max_ejection_percent when `overflow`).
   */
  onEject(
    cluster: string,
    host: Host,
    why: OutlierEvent | 'uneject',
    enforced: boolean,
    overflow?: boolean,
  ): void;
  onConnect(cluster: string, host: Host): void;
  /** A pooled connection reached the cluster's max_connection_duration. */
  onMaxConnectionDuration?(cluster: string): void;
  /** A warming cluster became warm (or an update replaced the cluster it was warming beside). */
  onWarm?(cluster: string): void;
  /** Active health checking: a check started, ended, or changed a host's state. */
  onHealthCheck?(
    cluster: string,
    host: Host | undefined,
    event: 'attempt' | 'success' | 'failure' | 'healthy' | 'unhealthy',
  ): void;
}

const H2_OPTIONS = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';

function upstreamProtocolOf(c: clusterV3.ClusterJson): UpstreamProtocol | 'downstream' {
  if (c.http2ProtocolOptions) return 'http2';
  const opts = c.typedExtensionProtocolOptions?.[H2_OPTIONS] as
    | { explicitHttpConfig?: { http2ProtocolOptions?: unknown }; useDownstreamProtocolConfig?: unknown }
    | undefined;
  if (opts?.explicitHttpConfig?.http2ProtocolOptions) return 'http2';
  if (opts?.useDownstreamProtocolConfig) return 'downstream';
  return 'http1';
}

/**
 * Idle timeout of pooled upstream connections: `typed_extension_protocol_options`'
 * HttpProtocolOptions.common_http_protocol_options (what Istio sets) or the cluster's deprecated
 * field; Envoy's default is 1 h.
 */
function upstreamIdleTimeoutMs(c: clusterV3.ClusterJson): number {
  const opts = c.typedExtensionProtocolOptions?.[H2_OPTIONS] as
    { commonHttpProtocolOptions?: { idleTimeout?: string } } | undefined;
  return (
    durationMs(opts?.commonHttpProtocolOptions?.idleTimeout) ??
    durationMs(c.commonHttpProtocolOptions?.idleTimeout) ??
    3_600_000
  );
}

/** Connection pools per host, each host's pools using the transport socket chosen for it. */
export type HostPools = Pick<UpstreamPools, 'http1' | 'rawHttp1' | 'http2' | 'retain' | 'close'>;

export class UpstreamCluster {
  readonly name: string;
  readonly type: ClusterType;
  readonly lbPolicy: LbPolicy;
  readonly connectTimeoutMs: number;
  /** upstream_bind_config's source address (Istio: 127.0.0.6 on inbound clusters). */
  readonly sourceAddress: string | undefined;
  readonly protocol: UpstreamProtocol | 'downstream';
  readonly circuitBreaker: CircuitBreaker;
  readonly outlier: OutlierDetector | undefined;
  /** Pools per host, by the host's transport socket (see tlsFor). */
  readonly pools: HostPools;
  /** The EDS service name this cluster subscribes to. */
  readonly edsName: string | undefined;
  /** The cluster's own transport_socket's UpstreamTlsContext, when it originates TLS. */
  readonly tls: TlsContext | undefined;
  /** The cluster's own transport socket, then one per transport_socket_matches entry. */
  private readonly sockets: SocketChoice[];
  /** Host key → index into transport_socket_matches (absent: the cluster's own socket). */
  private socketByHost = new Map<string, number>();
  private hostList: Host[] = [];
  private lb: LoadBalancer;
  /** False until an EDS cluster has its first assignment (warming) or DNS resolved. */
  initialized: boolean;
  /** Called once when the cluster becomes warm (see `warm`); set by the cluster manager. */
  onWarm: (() => void) | undefined;
  private warmNotified = false;
  private closed = false;
  private dnsTimer: NodeJS.Timeout | undefined;
  /** EDS initial_fetch_timeout: with no assignment by then, the cluster warms with no hosts. */
  private edsTimer: NodeJS.Timeout | undefined;
  private readonly originalDstHosts = new Map<string, Host>();
  private readonly healthCheckers: HealthChecker[] = [];
  /** Compiled `health_checks`, started once the cluster's SDS secrets are in (as Envoy's). */
  private readonly healthCheckSpecs: HealthCheckSpec[] = [];
  /**
   * SDS secrets its transport sockets name that have not arrived (nor had their wait run out):
   * Envoy's cluster init manager holds the cluster warming on them, and starts health checks after.
   */
  private readonly secretsAwaited: Set<string>;
  /** The cluster has been picked from (Envoy's "had traffic", for no_traffic_interval). */
  private hadTraffic = false;
  /** Each upstream request's max_stream_duration (0: none). */
  readonly maxStreamDurationMs: number;

  constructor(
    readonly config: clusterV3.ClusterJson,
    private readonly events: ClusterEvents,
    secrets?: SecretStore,
    probes: ProbeFactory = defaultProbes,
    /** Whether a secret the cluster names needs no wait (here, or its wait is over). */
    secretSettled: (name: string) => boolean = (n) => secrets?.settled(n) ?? true,
  ) {
    if (!config.name) throw new Error('cluster without a name');
    this.name = config.name;
    const type = config.type ?? 'STATIC';
    if (!['STATIC', 'EDS', 'STRICT_DNS', 'LOGICAL_DNS', 'ORIGINAL_DST'].includes(type)) {
      throw new Error(`cluster ${this.name}: type ${type} is not supported`);
    }
    this.type = type as ClusterType;
    this.lbPolicy = this.type === 'ORIGINAL_DST' ? 'ROUND_ROBIN' : lbPolicyOf(config.lbPolicy);
    this.connectTimeoutMs = durationMs(config.connectTimeout) ?? 5000;
    this.maxStreamDurationMs = upstreamHttpLimitMs(config, 'maxStreamDuration');
    this.sourceAddress = config.upstreamBindConfig?.sourceAddress?.address || undefined;
    this.protocol = upstreamProtocolOf(config);
    const limits = limitsOf(config.circuitBreakers);
    this.circuitBreaker = new CircuitBreaker(limits);
    const od = outlierConfigOf(config.outlierDetection);
    this.outlier = od
      ? new OutlierDetector(
          od,
          () => this.hostList,
          (h, why, enforced, overflow) => this.events.onEject(this.name, h, why, enforced, overflow),
        )
      : undefined;
    this.tls = compileTransportSocket(config.transportSocket, `cluster ${this.name}`, secrets);
    const poolOptions = {
      connectTimeoutMs: this.connectTimeoutMs,
      maxConnections: limits.maxConnections,
      idleTimeoutMs: upstreamIdleTimeoutMs(config),
      maxConnectionDurationMs: upstreamHttpLimitMs(config, 'maxConnectionDuration'),
      onMaxDuration: () => this.events.onMaxConnectionDuration?.(this.name),
      sourceAddress: this.sourceAddress,
      onConnect: (h: Host) => this.events.onConnect(this.name, h),
    };
    const own: SocketChoice = {
      name: '',
      tls: this.tls,
      pools: new UpstreamPools({ ...poolOptions, tls: this.tls }),
    };
    this.sockets = [own, ...compileSocketMatches(config, secrets, poolOptions)];
    const sockets = this.sockets;
    const of = (h: Host): UpstreamPools => this.socketFor(h).pools;
    this.pools = {
      http1: (h) => of(h).http1(h),
      rawHttp1: (h, source) => of(h).rawHttp1(h, source),
      http2: (h, source) => of(h).http2(h, source),
      // A host whose socket changed keeps no pools under its old one.
      retain: (keys) => {
        for (const [i, s] of sockets.entries())
          s.pools.retain(new Set([...keys].filter((k) => (this.socketByHost.get(k) ?? -1) + 1 === i)));
      },
      close: async () => {
        await Promise.all(sockets.map((s) => s.pools.close()));
      },
    };
    this.edsName = this.type === 'EDS' ? (config.edsClusterConfig?.serviceName ?? this.name) : undefined;
    this.initialized = this.type === 'STATIC' || this.type === 'ORIGINAL_DST';
    if (this.type === 'EDS') {
      const ms = initialFetchTimeoutMs(config.edsClusterConfig?.edsConfig, durationMs);
      if (ms > 0) {
        this.edsTimer = setTimeout(() => {
          this.edsTimer = undefined;
          if (!this.initialized) this.setHosts([]);
        }, ms);
        this.edsTimer.unref();
      }
    }
    if (this.type === 'STATIC') {
      this.hostList = hostsFromAssignment(config.loadAssignment);
      this.socketByHost = socketIndexByHost(config.transportSocketMatches ?? [], config.loadAssignment);
    }
    this.lb = this.buildLb();
    if (this.type === 'STRICT_DNS' || this.type === 'LOGICAL_DNS') this.startDns();
    for (const hc of config.healthChecks ?? [])
      this.healthCheckSpecs.push(healthCheckSpecOf(hc, this.name, probes, this.healthCheckTls(hc)));
    // Only secrets fetched over SDS (a gRPC source or ADS) are waited for; a name without a source
    // is a static secret, there or not at the start (as Envoy, which has no init target for it).
    const refs = secrets ? sdsReferences([config.transportSocket, config.transportSocketMatches]) : [];
    const fetched = refs.filter((r) => r.sdsCluster !== undefined || r.ads === true).map((r) => r.name);
    this.secretsAwaited = new Set(fetched.filter((n) => !secretSettled(n)));
    if (this.secretsAwaited.size === 0) this.startHealthChecks();
  }

  private startHealthChecks(): void {
    const ev = this.events.onHealthCheck?.bind(this.events) ?? (() => {});
    for (const spec of this.healthCheckSpecs) {
      this.healthCheckers.push(
        new HealthChecker(
          spec,
          () => this.hostList,
          () => this.hadTraffic,
          {
            attempt: () => ev(this.name, undefined, 'attempt'),
            result: (h, ok) => {
              ev(this.name, h, ok ? 'success' : 'failure');
              if (ok) this.outlier?.activeCheckPassed(h);
            },
            transition: (h, healthy) => ev(this.name, h, healthy ? 'healthy' : 'unhealthy'),
            firstRound: () => this.notifyWarm(),
          },
        ),
      );
    }
  }

  /**
   * A secret arrived, or its wait ran out (initial_fetch_timeout, or the server removed it before
   * sending it): the cluster stops waiting for it; with the last one, health checks start and the
   * cluster may be warm. Later updates of the secret swap the TLS context in place (no re-warm).
   */
  secretSettled(name: string): void {
    if (!this.secretsAwaited.delete(name) || this.secretsAwaited.size > 0 || this.closed) return;
    this.startHealthChecks();
    this.notifyWarm();
  }

  /**
   * Envoy's cluster warming: the initial discovery is in (EDS assignment, DNS answer) and, with
   * active health checking, every host has had its first check.
   */
  get warm(): boolean {
    return (
      this.initialized &&
      this.secretsAwaited.size === 0 &&
      this.healthCheckers.every((hc) => hc.firstRoundDone)
    );
  }

  private notifyWarm(): void {
    if (this.warmNotified || !this.warm) return;
    this.warmNotified = true;
    this.onWarm?.();
  }

  get hosts(): readonly Host[] {
    return this.hostList;
  }

  /** The transport socket a host's connections use (transport_socket_matches, else the cluster's). */
  socketFor(host: Host): SocketChoice {
    const i = this.socketByHost.get(host.key);
    return (i === undefined ? undefined : this.sockets[i + 1]) ?? (this.sockets[0] as SocketChoice);
  }

  /**
   * The transport socket a health check uses for a host: with transport_socket_match_criteria, the
   * first transport_socket_matches entry those criteria satisfy (else the cluster's own socket),
   * for every host; without, the host's own socket (Envoy's rule).
   */
  private healthCheckTls(
    hc: NonNullable<clusterV3.ClusterJson['healthChecks']>[number],
  ): (host: Host) => TlsContext | undefined {
    const criteria = hc.transportSocketMatchCriteria as Readonly<Record<string, unknown>> | undefined;
    if (criteria === undefined) return (h) => this.tlsFor(h);
    const i = (this.config.transportSocketMatches ?? []).findIndex((m) =>
      socketMatchApplies(m.match as Readonly<Record<string, unknown>> | undefined, criteria),
    );
    const chosen = (i < 0 ? undefined : this.sockets[i + 1]) ?? (this.sockets[0] as SocketChoice);
    return () => chosen.tls;
  }

  /** The UpstreamTlsContext for connections to a host, or undefined for plaintext. */
  tlsFor(host: Host): TlsContext | undefined {
    return this.socketFor(host).tls;
  }

  private buildLb(): LoadBalancer {
    const c = this.config;
    return createLoadBalancer(this.lbPolicy, this.hostList, {
      ringSize: Number(c.ringHashLbConfig?.minimumRingSize ?? 1024),
      maglevTableSize: Number(c.maglevLbConfig?.tableSize ?? 65537),
      localityWeighted: c.commonLbConfig?.localityWeightedLbConfig !== undefined,
      choiceCount: c.leastRequestLbConfig?.choiceCount ?? 2,
    });
  }

  /** Applies an EDS assignment (or a DNS result shaped as one). */
  setAssignment(cla: endpointV3.ClusterLoadAssignmentJson): void {
    clearTimeout(this.edsTimer);
    this.edsTimer = undefined;
    this.socketByHost = socketIndexByHost(this.config.transportSocketMatches ?? [], cla);
    this.setHosts(hostsFromAssignment(cla, this.hostList));
  }

  private setHosts(hosts: Host[]): void {
    this.hostList = hosts;
    this.lb = this.buildLb();
    this.initialized = true;
    this.pools.retain(new Set(hosts.map((h) => h.key)));
    for (const hc of this.healthCheckers) hc.hostsChanged();
    this.notifyWarm();
  }

  private startDns(): void {
    const refresh = durationMs(this.config.dnsRefreshRate) ?? 5000;
    const resolve = async (): Promise<void> => {
      const hosts: Host[] = [];
      // The answers shaped as an assignment: each resolved host carries its endpoint's and its
      // locality's metadata, as Envoy's DNS hosts do, for transport_socket_matches.
      const resolved: endpointV3.ClusterLoadAssignmentJson = { endpoints: [] };
      const kept: Host[] = [];
      for (const group of this.config.loadAssignment?.endpoints ?? []) {
        const lbEndpoints: NonNullable<typeof group.lbEndpoints> = [];
        resolved.endpoints?.push({ ...(group.metadata ? { metadata: group.metadata } : {}), lbEndpoints });
        for (const lbe of group.lbEndpoints ?? []) {
          const sa = lbe.endpoint?.address?.socketAddress;
          if (!sa?.address) continue;
          try {
            const fam =
              this.config.dnsLookupFamily === 'V6_ONLY'
                ? 6
                : this.config.dnsLookupFamily === 'V4_ONLY'
                  ? 4
                  : 0;
            // node:dns/promises loads on the first DNS cluster, not at start.
            const { lookup } = process.getBuiltinModule('node:dns/promises');
            const addrs = await lookup(sa.address, { all: true, family: fam });
            const list = this.type === 'LOGICAL_DNS' ? addrs.slice(0, 1) : addrs;
            for (const a of list) {
              const address = { socketAddress: { ...sa, address: a.address } };
              lbEndpoints.push({ ...lbe, endpoint: { ...lbe.endpoint, address } });
              const old = this.hostList.find(
                (h) => h.address === a.address && h.port === (sa.portValue ?? 0),
              );
              hosts.push(
                old ??
                  makeHost(a.address, sa.portValue ?? 0, {
                    weight: lbe.loadBalancingWeight ?? 1,
                    priority: group.priority ?? 0,
                  }),
              );
            }
          } catch {
            // Keep the previous hosts of a name that fails to resolve (with their sockets).
            const previous = this.hostList.filter((h) => h.port === (sa.portValue ?? 0));
            hosts.push(...previous);
            kept.push(...previous);
          }
        }
      }
      const byHost = socketIndexByHost(this.config.transportSocketMatches ?? [], resolved);
      for (const h of kept) {
        const i = this.socketByHost.get(h.key);
        if (i !== undefined && !byHost.has(h.key)) byHost.set(h.key, i);
      }
      this.socketByHost = byHost;
      const same = hosts.length === this.hostList.length && hosts.every((h, i) => h === this.hostList[i]);
      if (!same || !this.initialized) this.setHosts(hosts);
    };
    const loop = (): void => {
      void resolve().finally(() => {
        if (this.dnsTimer !== undefined || !this.initialized) {
          this.dnsTimer = setTimeout(loop, refresh);
          this.dnsTimer.unref();
        }
      });
    };
    this.dnsTimer = setTimeout(loop, 0);
    this.dnsTimer.unref();
  }

  /** Picks a host; ORIGINAL_DST clusters use the connection's original destination. */
  pick(ctx: PickContext & { originalDst?: { address: string; port: number } | undefined }): Host | undefined {
    if (this.type === 'ORIGINAL_DST') {
      const od = ctx.originalDst;
      if (!od) return undefined;
      const key = `${od.address}:${od.port}`;
      let h = this.originalDstHosts.get(key);
      if (!h) {
        h = makeHost(od.address, od.port);
        this.originalDstHosts.set(key, h);
      }
      return h;
    }
    this.hadTraffic = true;
    return this.lb.pick(ctx);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.onWarm = undefined;
    for (const s of this.sockets) s.tls?.close();
    this.outlier?.close();
    for (const hc of this.healthCheckers) hc.close();
    if (this.dnsTimer) clearTimeout(this.dnsTimer);
    this.dnsTimer = undefined;
    clearTimeout(this.edsTimer);
    this.edsTimer = undefined;
    await this.pools.close();
  }
}
