// envoy.filters.network.tcp_proxy: connects a downstream connection to a host of a cluster
// (single or weighted), pipes bytes both ways with an idle timeout, and counts bytes and
// connections (Envoy stats and Istio TCP metrics, naming the peer workload when the mesh TLS
// connection negotiated the istio-peer-exchange metadata exchange).
import net from 'node:net';
import type tls from 'node:tls';
import type { Duplex } from 'node:stream';
import type { tcpProxyV3 } from '@skein/api-types';
import { durationMs } from '../util/duration.js';
import { connectTls } from '../transport-socket/upstream-tls.js';
import { serviceOfCluster, type MetricContext } from '../stats/istio-metrics.js';
import type { PeerMetadata } from '../http-connection-manager/stream-info.js';
import { exchangeFrame, PEER_EXCHANGE_ALPN, PeerFrameReader } from './peer-exchange.js';
import { tcpStreamInfo, type TcpOutcome } from './tcp-stream-info.js';
import {
  createAccessLogger,
  type AccessLogConfigJson,
  type AccessLogger,
} from '../access-log/access-logger.js';
import type {
  DownstreamConnection,
  ListenerInfo,
  ProxyContext,
} from '../http-connection-manager/proxy-context.js';
import { connectFromSource } from '../listener/original-src.js';

export type TcpProxyJson = tcpProxyV3.TcpProxyJson;

export class TcpProxy {
  private readonly idleMs: number;
  private readonly statPrefix: string;
  private readonly accessLogs: AccessLogger[];
  constructor(
    readonly config: TcpProxyJson,
    private readonly listener: ListenerInfo,
    private readonly ctx: ProxyContext,
    private readonly random: () => number = Math.random,
  ) {
    if (!config.cluster && !config.weightedClusters?.clusters?.length) {
      throw new Error('tcp_proxy needs cluster or weighted_clusters');
    }
    // Envoy's default idle timeout is one hour; 0s disables it.
    this.idleMs = durationMs(config.idleTimeout) ?? 3_600_000;
    this.statPrefix = config.statPrefix ?? 'tcp';
    this.accessLogs = (config.accessLog ?? []).map((a) => createAccessLogger(a as AccessLogConfigJson));
  }

  /** Writes the connection's access log entries (Envoy logs a TCP connection when it ends). */
  private log(conn: DownstreamConnection, startMs: number, outcome: TcpOutcome): void {
    if (this.accessLogs.length === 0) return;
    const info = tcpStreamInfo(conn, startMs, outcome);
    for (const log of this.accessLogs) log(info);
  }

  private clusterName(): string | undefined {
    if (this.config.cluster) return this.config.cluster;
    const list = this.config.weightedClusters?.clusters ?? [];
    const total = list.reduce((a, c) => a + (c.weight ?? 0), 0);
    let r = this.random() * total;
    for (const c of list) if ((r -= c.weight ?? 0) < 0) return c.name;
    return list[list.length - 1]?.name;
  }

  handle(downstream: Duplex, conn: DownstreamConnection): void {
    const { stats } = this.ctx;
    const startMs = Date.now();
    const sp = { envoy_tcp_prefix: this.statPrefix };
    stats.inc('tcp.{envoy_tcp_prefix}.downstream_cx_total', sp);
    const name = this.clusterName();
    const cluster = name ? this.ctx.clusters.get(name) : undefined;
    let metric: MetricContext | undefined = this.listener.direction
      ? {
          reporter: this.listener.direction === 'OUTBOUND' ? 'source' : 'destination',
          local: this.ctx.local,
          peer: undefined,
          service: serviceOfCluster(name),
          protocol: 'tcp',
          mtls: conn.tls,
          peerPrincipal: conn.peerPrincipal,
          policy: this.listener.metricsPolicy,
        }
      : undefined;
    if (!cluster) {
      stats.inc('tcp.{envoy_tcp_prefix}.downstream_cx_no_route', sp);
      this.log(conn, startMs, { clusterName: name, received: 0, sent: 0, flag: 'NC' });
      downstream.destroy();
      return;
    }
    const ct = { envoy_cluster_name: cluster.name };
    const host = cluster.pick({ now: Date.now(), originalDst: conn.originalDst });
    if (!host) {
      stats.inc('cluster.{envoy_cluster_name}.upstream_cx_none_healthy', ct);
      this.log(conn, startMs, { clusterName: cluster.name, received: 0, sent: 0, flag: 'UH' });
      downstream.destroy();
      return;
    }
    if (cluster.circuitBreaker.tryAcquire() !== 'ok') {
      stats.inc('cluster.{envoy_cluster_name}.upstream_cx_overflow', ct);
      this.log(conn, startMs, { clusterName: cluster.name, received: 0, sent: 0, flag: 'UO' });
      downstream.destroy();
      return;
    }
    stats.inc('cluster.{envoy_cluster_name}.upstream_cx_total', ct);
    // The opened connection is counted once the peer is known (after the metadata exchange).
    let opened = false;
    let peerSeen: PeerMetadata | undefined;
    const open = (peer?: PeerMetadata): void => {
      if (opened) return;
      opened = true;
      peerSeen = peer;
      if (metric && peer) metric = { ...metric, peer };
      if (metric) this.ctx.istio.tcpOpen(metric);
    };
    // Server side of the exchange: the downstream negotiated it; our frame goes out first.
    const downstreamExchange = conn.alpn === PEER_EXCHANGE_ALPN;
    if (downstreamExchange) downstream.write(exchangeFrame(this.ctx.local));
    else if (!cluster.tlsFor(host)) open();
    let sent = 0;
    let received = 0;
    let flags = '-';
    // Open connections report their bytes periodically (Istio's tcp_reporting_duration, 5 s), so a
    // long-lived connection shows traffic before it closes; close reports the rest.
    let reportedSent = 0;
    let reportedReceived = 0;
    const report = (): void => {
      if (!metric || !opened) return;
      this.ctx.istio.tcpBytes(metric, sent - reportedSent, received - reportedReceived);
      reportedSent = sent;
      reportedReceived = received;
    };
    const reporter = metric
      ? setInterval(report, this.listener.metricsPolicy?.tcpReportingMs ?? 5000)
      : undefined;
    reporter?.unref();
    let upstream: net.Socket;
    const tlsCtx = cluster.tlsFor(host);
    if (tlsCtx) {
      const s = connectTls(
        tlsCtx,
        {
          host: host.address,
          port: host.port,
          alpn: undefined,
          timeoutMs: cluster.connectTimeoutMs,
          localAddress: cluster.sourceAddress,
        },
        (err) => {
          if (err) {
            flags = 'UF';
            stats.inc('cluster.{envoy_cluster_name}.upstream_cx_connect_fail', ct);
            close();
          } else upstream.emit('skein-connected');
        },
      );
      if (!s) {
        if (reporter) clearInterval(reporter);
        cluster.circuitBreaker.release();
        downstream.destroy();
        return;
      }
      upstream = s;
    } else {
      // original_src (TPROXY inbound): from the client's own address, else from the cluster's.
      const fromClient = conn.originalSource
        ? connectFromSource(conn.originalSource, host.address, host.port)
        : undefined;
      if (fromClient && 'error' in fromClient)
        this.ctx.log.warn('original source not kept', { cluster: cluster.name, error: fromClient.error });
      upstream =
        fromClient && 'socket' in fromClient
          ? fromClient.socket
          : net.connect({
              host: host.address,
              port: host.port,
              ...(cluster.sourceAddress ? { localAddress: cluster.sourceAddress } : {}),
            });
      upstream.once('connect', () => upstream.emit('skein-connected'));
    }
    upstream.setNoDelay(true);
    const connectTimer = setTimeout(() => {
      flags = 'UF';
      upstream.destroy();
    }, cluster.connectTimeoutMs);
    host.activeRequests++;
    upstream.once('skein-connected', () => {
      clearTimeout(connectTimer);
      if (cluster.outlier) cluster.outlier.record(host, 200, Date.now());
      // Client side of the exchange: the upstream TLS connection negotiated it.
      const upstreamExchange = (upstream as tls.TLSSocket).alpnProtocol === PEER_EXCHANGE_ALPN;
      if (upstreamExchange) {
        upstream.write(exchangeFrame(this.ctx.local));
        upstream.pipe(new PeerFrameReader((p) => open(p))).pipe(downstream);
      } else {
        if (!downstreamExchange) open();
        upstream.pipe(downstream);
      }
      if (downstreamExchange) downstream.pipe(new PeerFrameReader((p) => open(p))).pipe(upstream);
      else downstream.pipe(upstream);
    });
    downstream.on('data', (c: Buffer) => {
      received += c.length;
      stats.inc('cluster.{envoy_cluster_name}.upstream_cx_tx_bytes_total', ct, c.length);
    });
    upstream.on('data', (c: Buffer) => {
      sent += c.length;
      stats.inc('cluster.{envoy_cluster_name}.upstream_cx_rx_bytes_total', ct, c.length);
    });
    let idle: NodeJS.Timeout | undefined;
    const touch = (): void => {
      if (this.idleMs <= 0) return;
      if (idle) idle.refresh();
      else
        idle = setTimeout(() => {
          stats.inc('tcp.{envoy_tcp_prefix}.idle_timeout', sp);
          upstream.destroy();
          downstream.destroy();
        }, this.idleMs);
    };
    touch();
    downstream.on('data', touch);
    upstream.on('data', touch);
    // The listeners above start the flow; hold downstream bytes until the upstream connects.
    downstream.pause();
    let closed = false;
    const close = (): void => {
      if (closed) return;
      closed = true;
      clearTimeout(connectTimer);
      if (idle) clearTimeout(idle);
      host.activeRequests--;
      cluster.circuitBreaker.release();
      open();
      if (reporter) clearInterval(reporter);
      if (metric) this.ctx.istio.tcpClose(metric, sent - reportedSent, received - reportedReceived, flags);
      this.log(conn, startMs, {
        clusterName: cluster.name,
        upstreamHost: `${host.address}:${host.port}`,
        received,
        sent,
        flag: flags,
        peer: peerSeen,
      });
      upstream.destroy();
      downstream.destroy();
    };
    upstream.once('error', (err: NodeJS.ErrnoException) => {
      if (upstream.connecting || err.code === 'ECONNREFUSED') {
        flags = 'UF';
        stats.inc('cluster.{envoy_cluster_name}.upstream_cx_connect_fail', ct);
        if (cluster.outlier) cluster.outlier.record(host, 'connect-failure', Date.now());
      }
      close();
    });
    downstream.once('error', close);
    upstream.once('close', close);
    downstream.once('close', close);
  }
}
