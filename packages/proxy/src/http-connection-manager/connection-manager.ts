// envoy.filters.network.http_connection_manager: turns HTTP/1.1 and HTTP/2 requests on a
// listener's connections into streams through the HTTP filter chain (fault, CORS, header
// mutation) to the router, sets Envoy's x-forwarded-* / x-request-id / x-envoy-* headers,
// exchanges workload metadata with the peer proxy, and records stats, Istio metrics and access logs.
import net from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { Duplex } from 'node:stream';
import type { faultV3, httpConnectionManagerV3, routeComponentsV3 } from '@skein/api-types';
import { durationMs } from '../util/duration.js';
import { compileRouteTable, type RequestView, type RouteTable } from '../router/route-table.js';
import { chooseCluster } from '../router/route-action.js';
import { routeRequest, type RouterResult } from '../router/router-filter.js';
import { Cancel } from '../router/cancel.js';
import type { HttpFilter, FilterRequest } from '../http-filters/http-filter.js';
import { createFaultFilter } from '../http-filters/fault-filter.js';
import { createCorsFilter } from '../http-filters/cors-filter.js';
import { createRbacFilter, HTTP_RBAC_TYPE } from '../http-filters/rbac-filter.js';
import { createJwtAuthnFilter, JWT_AUTHN_FILTER_TYPE } from '../http-filters/jwt-authn-filter.js';
import { jwksResolverFor } from '../http-filters/jwks-fetcher.js';
import type { Stat, StatsStore } from '../stats/stats-store.js';
import { createHeaderMutationFilter } from '../http-filters/header-mutation-filter.js';
import {
  createAccessLogger,
  type AccessLogConfigJson,
  type AccessLogger,
} from '../access-log/access-logger.js';
import { serviceOfCluster, type MetricContext } from '../stats/istio-metrics.js';
import { checkPolicy, statsPolicyOf, type MetricsPolicy } from '../stats/stats-config.js';
import {
  PEER_METADATA_HEADER,
  PEER_METADATA_ID_HEADER,
  decodePeerMetadata,
  encodePeerMetadata,
} from '../stats/workload-metadata.js';
import { applyForwardedHeaders, firstValue, requestHeaderRecord, responseHeaderRecord } from './headers.js';
import type { DownstreamConnection, ListenerInfo, ProxyContext } from './proxy-context.js';
import { HttpStreamInfo, type PeerMetadata, type StreamInfo } from './stream-info.js';
import { SpanStatusCode, type RequestSpan } from '../tracing/tracer.js';
import { formatFlags } from './stream-info.js';
import { checkTraceProvider, providerTracer } from '../tracing/trace-provider.js';
import type { TraceProviderJson } from './proxy-context.js';
import { hcmTimeoutsOf, routeStreamLimits, type HcmTimeouts } from './stream-timeouts.js';
import { DownstreamStream, type StreamOwner } from './downstream-stream.js';
import { RawResponse } from './http1-server-connection.js';
import { applyClientCertDetails } from '../transport-socket/client-cert-details.js';

export type HcmJson = httpConnectionManagerV3.HttpConnectionManagerJson;
type AnyReq = IncomingMessage | Http2ServerRequest;
type AnyRes = ServerResponse | Http2ServerResponse;
/** Both response kinds accept these calls; the HTTP/1 signatures stand for both. */
const h1 = (res: AnyRes): ServerResponse => res as ServerResponse;

const T = 'type.googleapis.com/envoy.extensions.filters.';
/** How long an HTTP/1.1 response head may wait for its first body bytes before it is sent alone. */
const HEAD_FLUSH_MS = 5;

function buildFilters(hcm: HcmJson, statPrefix: string, stats: StatsStore, ctx: ProxyContext): HttpFilter[] {
  const out: HttpFilter[] = [];
  for (const f of hcm.httpFilters ?? []) {
    const cfg = (f.typedConfig ?? {}) as Record<string, unknown> & { '@type'?: string };
    const type = cfg['@type'] ?? '';
    if (f.disabled) continue;
    if (statsPolicyOf(f)) continue; // istio.stats: read by the HCM itself (metrics policy)
    if (type === `${T}http.fault.v3.HTTPFault`) out.push(createFaultFilter(cfg as faultV3.HTTPFaultJson));
    else if (type === `${T}http.cors.v3.Cors`) out.push(createCorsFilter());
    else if (type === `${T}http.header_mutation.v3.HeaderMutation`)
      out.push(createHeaderMutationFilter(cfg as Parameters<typeof createHeaderMutationFilter>[0]));
    else if (type === JWT_AUTHN_FILTER_TYPE)
      out.push(
        createJwtAuthnFilter(
          f.name ?? 'envoy.filters.http.jwt_authn',
          cfg as Parameters<typeof createJwtAuthnFilter>[1],
          jwksResolverFor(ctx.clusters),
        ),
      );
    else if (type === HTTP_RBAC_TYPE)
      out.push(
        createRbacFilter(
          f.name ?? 'envoy.filters.http.rbac',
          cfg as Parameters<typeof createRbacFilter>[1],
          statPrefix,
          stats,
        ),
      );
    else if (type === `${T}http.router.v3.Router`) break;
    else if (!f.isOptional) throw new Error(`http filter ${f.name ?? type} (${type}) is not supported`);
  }
  return out;
}

/** The metrics policy of the HCM's `istio.stats` HTTP filter (checked: bad expressions NACK). */
function hcmStatsPolicy(hcm: HcmJson): MetricsPolicy | undefined {
  for (const f of hcm.httpFilters ?? []) {
    const p = f.disabled ? undefined : statsPolicyOf(f);
    if (p) {
      checkPolicy(p);
      return p;
    }
  }
  return undefined;
}

export class HttpConnectionManager implements StreamOwner {
  readonly filters: HttpFilter[];
  private readonly inlineRoutes: RouteTable | undefined;
  private readonly rdsName: string | undefined;
  private readonly accessLogs: AccessLogger[];
  private readonly statPrefix: string;
  /** Telemetry metric overrides from an `istio.stats` HTTP filter. */
  private readonly metricsPolicy: MetricsPolicy | undefined;
  /** The stat tags of this manager (one object, not one per request). */
  private readonly statTags: { readonly envoy_http_conn_manager_prefix: string };
  /** Tracing provider and sampling percentage, when this HCM traces. */
  private readonly trace: { provider: TraceProviderJson; sampling: number } | undefined;
  /** Stream timeouts (stream idle, request, request headers, max stream duration). */
  readonly timeouts: HcmTimeouts;
  /** Counters incremented on every request, resolved once (`downstream_rq_total`, `_Nxx` by class). */
  private readonly rqTotal: Stat;
  private readonly rqClass: Stat[] = [];
  /** Per upstream cluster: `upstream_rq_<code>` by code and `upstream_rq_<N>xx` by class. */
  private readonly upstreamRq = new Map<string, { codes: Stat[]; classes: Stat[] }>();

  constructor(
    readonly config: HcmJson,
    private readonly listener: ListenerInfo,
    private readonly ctx: ProxyContext,
  ) {
    this.filters = buildFilters(config, config.statPrefix ?? 'http', ctx.stats, ctx);
    this.metricsPolicy = hcmStatsPolicy(config) ?? listener.metricsPolicy;
    this.inlineRoutes = config.routeConfig ? compileRouteTable(config.routeConfig) : undefined;
    this.rdsName = config.rds?.routeConfigName;
    if (!this.inlineRoutes && !this.rdsName)
      throw new Error('http_connection_manager needs route_config or rds');
    this.accessLogs = (config.accessLog ?? []).map((a) => createAccessLogger(a as AccessLogConfigJson));
    this.statPrefix = config.statPrefix ?? 'http';
    this.timeouts = hcmTimeoutsOf(config);
    this.statTags = { envoy_http_conn_manager_prefix: this.statPrefix };
    this.rqTotal = ctx.stats.counter(
      'http.{envoy_http_conn_manager_prefix}.downstream_rq_total',
      'envoy_http_conn_manager_prefix',
      this.statPrefix,
    );
    const t = config.tracing;
    const provider =
      (t?.provider as TraceProviderJson | undefined) ?? (t ? ctx.defaultTraceProvider : undefined);
    if (t && provider) {
      checkTraceProvider(provider);
      this.trace = { provider, sampling: Number(t.randomSampling?.value ?? 100) };
    } else this.trace = undefined;
  }

  /** Starts this request's span when tracing is on and the request is sampled. */
  private startSpan(
    info: StreamInfo,
    headers: Record<string, string>,
    operation: string | undefined,
  ): RequestSpan | undefined {
    if (!this.trace) return undefined;
    const tracer = providerTracer(
      this.ctx.tracing,
      this.trace.provider,
      this.ctx.clusters,
      this.ctx.nodeId || 'skein-proxy',
    );
    if (!tracer) return undefined;
    const kind = this.listener.direction === 'OUTBOUND' ? 'client' : 'server';
    const rs = this.ctx.tracing.startSpan(
      tracer,
      operation ?? `${info.authority}/*`,
      kind,
      headers,
      this.trace.sampling,
    );
    if (!rs) return undefined;
    rs.span.setAttributes({
      'http.method': info.method,
      'http.url': `${info.tls ? 'https' : 'http'}://${info.authority}${info.path}`,
      'http.protocol': info.protocol,
      node_id: this.ctx.nodeId,
      'guid:x-request-id': info.requestId ?? '',
      downstream_cluster: '-',
      user_agent: headers['user-agent'] ?? '-',
      component: 'proxy',
    });
    return rs;
  }

  private endSpan(rs: RequestSpan | undefined, info: StreamInfo): void {
    if (!rs) return;
    rs.span.setAttributes({
      'http.status_code': info.responseCode,
      response_flags: formatFlags(info.responseFlags),
      upstream_cluster: info.clusterName ?? '-',
      upstream_address: info.upstreamHost ?? '-',
      request_size: info.bytesReceived,
      response_size: info.bytesSent,
    });
    if (info.responseCode >= 500 || info.responseCode === 0)
      rs.span.setStatus({ code: SpanStatusCode.ERROR });
    rs.span.end();
  }

  /** The RDS name this manager waits for (listener warming). */
  get routeName(): string | undefined {
    return this.rdsName;
  }

  private routes(): RouteTable | undefined {
    return this.inlineRoutes ?? (this.rdsName ? this.ctx.routeTable(this.rdsName) : undefined);
  }

  private newInfo(
    req: AnyReq,
    conn: DownstreamConnection,
    headers: Record<string, string>,
    authority: string,
  ): HttpStreamInfo {
    const v = req.httpVersion;
    const info = new HttpStreamInfo({
      startMs: Date.now(),
      protocol: v === '2.0' ? 'HTTP/2' : v === '1.0' ? 'HTTP/1.0' : 'HTTP/1.1',
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      authority,
      requestHeaders: headers,
      // Per connection, not per request.
      downstreamRemote: (conn.remoteLabel ??= `${conn.remoteAddress}:${conn.remotePort}`),
      downstreamLocal: (conn.localLabel ??= `${conn.localAddress}:${conn.localPort}`),
      tls: conn.tls,
    });
    if (conn.peerPrincipal) info.peerPrincipal = conn.peerPrincipal;
    return info;
  }

  /** A stream timeout's HCM counter. */
  countTimeout(stat: string): void {
    this.ctx.stats.inc(`http.{envoy_http_conn_manager_prefix}.${stat}`, this.statTags);
  }

  /** A stream ended (its response finished, or it closed first). */
  streamEnded(stream: DownstreamStream): void {
    this.complete(stream.info, stream.route);
    this.endSpan(stream.span, stream.info);
  }

  get nodeId(): string {
    return this.ctx.nodeId;
  }

  get local(): PeerMetadata {
    return this.ctx.local;
  }

  private complete(info: HttpStreamInfo, route: routeComponentsV3.RouteJson | undefined): void {
    info.endMs = Date.now();
    const { stats } = this.ctx;
    const sp = this.statTags;
    const code = info.responseCode;
    const cls = Math.floor(code / 100);
    (this.rqClass[cls] ??= stats.counter(
      `http.{envoy_http_conn_manager_prefix}.downstream_rq_${cls}xx`,
      'envoy_http_conn_manager_prefix',
      this.statPrefix,
    )).value++;
    const cluster = info.clusterName;
    if (cluster && this.ctx.clusters.get(cluster)) {
      let c = this.upstreamRq.get(cluster);
      if (!c) this.upstreamRq.set(cluster, (c = { codes: [], classes: [] }));
      const t = 'envoy_cluster_name';
      (c.codes[code] ??= stats.counter(`cluster.{envoy_cluster_name}.upstream_rq_${code}`, t, cluster))
        .value++;
      (c.classes[cls] ??= stats.counter(`cluster.{envoy_cluster_name}.upstream_rq_${cls}xx`, t, cluster))
        .value++;
    }
    if (info.hasFlags)
      for (const f of info.responseFlags)
        stats.inc(`http.{envoy_http_conn_manager_prefix}.response_flag.${f}`, sp);
    if (this.listener.direction) {
      const isGrpc = (info.requestHeaders['content-type'] ?? '').startsWith('application/grpc');
      const m: MetricContext = {
        reporter: this.listener.direction === 'OUTBOUND' ? 'source' : 'destination',
        local: this.ctx.local,
        peer: info.peer,
        service: serviceOfCluster(info.clusterName) ?? hostOnly(info.authority),
        protocol: isGrpc ? 'grpc' : 'http',
        mtls: this.listener.direction === 'OUTBOUND' ? info.upstreamTls === true : info.tls,
        peerPrincipal: info.peerPrincipal,
        policy: this.metricsPolicy,
      };
      this.ctx.istio.recordRequest(m, info);
    }
    void route;
    for (const log of this.accessLogs) log(info);
  }

  /** Handles one HTTP request (HTTP/1.1 or HTTP/2 compatibility API). */
  handle(req: AnyReq, res: AnyRes, conn: DownstreamConnection): void {
    try {
      const filtering = this.run(req, res, conn);
      if (filtering) filtering.catch((err: unknown) => this.failed(err, res));
    } catch (err) {
      this.failed(err, res);
    }
  }

  /** Handling a request failed (an exception): logged, and 500 when nothing was sent yet. */
  failed(err: unknown, res: AnyRes): void {
    this.ctx.log.error('request failed', { error: String(err) });
    if (!res.headersSent) {
      try {
        h1(res).writeHead(500);
        res.end();
      } catch {
        // The stream is already gone.
      }
    }
  }

  /**
   * The request up to its route and the router, synchronously; a promise only while HTTP filters
   * run. The response continues in `forward`, called by the stream with the router's result.
   */
  private run(req: AnyReq, res: AnyRes, conn: DownstreamConnection): Promise<void> | undefined {
    const cfg = this.config;
    this.rqTotal.value++;
    const headers = requestHeaderRecord(req.headers, true);
    const authority = firstValue(req.headers[':authority']) ?? req.headers.host ?? '';
    applyForwardedHeaders(headers, {
      useRemoteAddress: cfg.useRemoteAddress === true,
      skipXffAppend: cfg.skipXffAppend === true,
      generateRequestId: cfg.generateRequestId !== false,
      tls: conn.tls,
      remoteAddress: conn.remoteAddress,
    });
    applyClientCertDetails(
      headers,
      cfg.forwardClientCertDetails,
      cfg.setCurrentClientCertDetails,
      conn.clientCert,
    );
    const info = this.newInfo(req, conn, headers, authority);
    if (headers['x-request-id']) info.requestId = headers['x-request-id'];

    // Metadata exchange: the server side learns the caller from the request headers.
    const inbound = this.listener.direction === 'INBOUND';
    const outbound = this.listener.direction === 'OUTBOUND';
    if (inbound) {
      const peer = decodePeerMetadata(headers[PEER_METADATA_HEADER]);
      if (peer) info.peer = peer;
    }
    delete headers[PEER_METADATA_HEADER];
    delete headers[PEER_METADATA_ID_HEADER];
    if (outbound) {
      headers[PEER_METADATA_ID_HEADER] = this.ctx.nodeId;
      headers[PEER_METADATA_HEADER] = encodePeerMetadata(this.ctx.local);
    }

    const gone = new Cancel();
    const isH2 = info.protocol === 'HTTP/2';
    const view = new HcmRequestView(authority, info.path, info.method, headers);
    const table = this.routes();
    const m = table?.match(view);
    const route = m?.route?.route;
    const vhost = m?.vhost?.vhost;
    if (route?.name) info.routeName = route.name;
    const stream = new DownstreamStream(this, res, info, gone, route, vhost, table, inbound, isH2);
    const timers = stream.timers;
    if (route?.route?.idleTimeout !== undefined || route?.route?.maxStreamDuration !== undefined) {
      const lim = routeStreamLimits(this.timeouts, route.route, headers['grpc-timeout']);
      timers.setIdle(lim.idleMs);
      timers.setDuration(lim.durationMs);
    }
    const span = this.startSpan(info, headers, route?.decorator?.operation);
    stream.span = span;
    // The upstream request continues this trace (traceparent and B3).
    if (span) span.inject(headers);

    const clusterName = route?.route ? chooseClusterName(route.route, view) : undefined;
    // Only the HTTP filters read it: none is made for a chain with the router alone.
    const filterReq: FilterRequest | undefined =
      this.filters.length === 0
        ? undefined
        : {
            method: info.method,
            path: info.path,
            authority,
            headers,
            route,
            vhost,
            clusterName,
            info,
            conn,
            respond: (status, body, extra) => stream.localReply(status, body, extra),
            sleep: (ms) =>
              new Promise((resolve) => {
                const t = setTimeout(() => resolve(true), ms);
                gone.addEventListener('abort', () => (clearTimeout(t), resolve(false)), { once: true });
              }),
          };
    stream.filterReq = filterReq;

    // Our HTTP/1.1 responses call the stream directly; node:http's and HTTP/2's fire 'finish' once
    // before 'close', so plain listeners do (no `once` wrappers).
    const raw: unknown = res;
    if (raw instanceof RawResponse) raw.observer = stream;
    else {
      res.on('finish', () => stream.responseFinished());
      res.on('close', () => stream.responseClosed());
    }

    if (filterReq) return this.filterThenDispatch(filterReq, stream, req, conn, view);
    this.dispatch(stream, req, conn, view);
    return undefined;
  }

  private async filterThenDispatch(
    filterReq: FilterRequest,
    stream: DownstreamStream,
    req: AnyReq,
    conn: DownstreamConnection,
    view: HcmRequestView,
  ): Promise<void> {
    for (const f of this.filters) {
      const status = await f.onRequest(filterReq);
      if (status === 'stop') return;
    }
    this.dispatch(stream, req, conn, view);
  }

  /** Local answers (no route, direct response, redirect), else the router. */
  private dispatch(
    stream: DownstreamStream,
    req: AnyReq,
    conn: DownstreamConnection,
    view: HcmRequestView,
  ): void {
    const { stats } = this.ctx;
    const sp = this.statTags;
    const { route, vhost, info, timers, table } = stream;
    const authority = view.host;
    const headers = view.headers;
    if (!route || !vhost) {
      info.responseFlags.add('NR');
      stats.inc('http.{envoy_http_conn_manager_prefix}.no_route', sp);
      stream.localReply(404, '');
      return;
    }
    if (route.directResponse) {
      const body =
        route.directResponse.body?.inlineString ??
        (route.directResponse.body?.inlineBytes
          ? Buffer.from(route.directResponse.body.inlineBytes, 'base64').toString()
          : '');
      stream.localReply(route.directResponse.status ?? 200, body);
      return;
    }
    if (route.redirect) {
      stream.localReply(redirectStatus(route.redirect.responseCode), '', {
        location: redirectLocation(route.redirect, info, route.match, conn.tls),
      });
      return;
    }
    if (!route.route) {
      stream.localReply(404, '');
      return;
    }

    const cl = req.headers['content-length'];
    const hasBody =
      info.protocol === 'HTTP/2'
        ? !(req as Http2ServerRequest).stream.endAfterHeaders
        : cl !== undefined
          ? Number(cl) > 0
          : req.headers['transfer-encoding'] !== undefined;
    if (!hasBody || req.readableEnded) {
      stream.requestDone = true;
      timers.requestComplete();
    } else
      req.once('end', () => {
        stream.requestDone = true;
        timers.requestComplete();
      });
    const routed = routeRequest(this.ctx, {
      method: info.method,
      path: info.path,
      authority,
      headers,
      body: hasBody ? req : undefined,
      contentLength: cl !== undefined ? Number(cl) : undefined,
      downstreamProtocol: info.protocol === 'HTTP/2' ? 'http2' : 'http1',
      view,
      route,
      vhost,
      routeConfigHeaders: routeConfigHeadersOf(table),
      conn,
      info,
      downstreamGone: stream.gone,
    });
    if (routed instanceof Promise)
      routed.then(
        (r) => stream.routed(r),
        (e: unknown) => stream.routeFailed(e),
      );
    else routed.deliverTo(stream);
  }

  /** The router's result goes downstream: the upstream response (head and body), or a local reply. */
  forward(stream: DownstreamStream, result: RouterResult): void {
    const { stats } = this.ctx;
    const { info, timers, res, vhost, isH2 } = stream;
    const outbound = this.listener.direction === 'OUTBOUND';
    if (timers.firedKind) {
      // A stream timeout already answered (or reset) this stream.
      if (result.kind === 'response') {
        result.response.body.destroy();
        result.release();
      }
      return;
    }
    if (result.kind === 'local') {
      if (result.flag) info.responseFlags.add(result.flag);
      if (result.status === 499) {
        res.destroy();
        return;
      }
      stream.localReply(result.status, result.body, result.headers);
      return;
    }
    const up = result.response;
    info.upstreamResponseMs = Date.now();
    const h = responseHeaderRecord(up.headers);
    if (outbound) {
      const peer = decodePeerMetadata(firstValue(h[PEER_METADATA_HEADER]));
      if (peer) info.peer = peer;
    }
    delete h[PEER_METADATA_HEADER];
    delete h[PEER_METADATA_ID_HEADER];
    h['x-envoy-upstream-service-time'] = String(info.upstreamResponseMs - info.startMs);
    if (vhost?.includeAttemptCountInResponse) h['x-envoy-attempt-count'] = String(info.attempts);
    stream.finishResponse(up.status, h);
    if (up.complete !== undefined && !isH2) {
      // Received whole with its head: one write downstream, no body stream.
      result.release();
      info.bytesSent = up.complete.length;
      h1(res).writeHead(up.status, h);
      res.end(up.complete);
      return;
    }
    let headersSent = false;
    const sendHeaders = (): void => {
      if (headersSent) return;
      headersSent = true;
      h1(res).writeHead(up.status, h);
    };
    // The head goes out with the first body bytes (one write); a body that is slow to start
    // gets its head after HEAD_FLUSH_MS so long polls and streams still see it early. No timer
    // when the body is already buffered or over (the common small response): it flows next tick.
    const bodyReady = up.body.readableLength > 0 || up.body.readableEnded;
    const flushTimer =
      isH2 || bodyReady
        ? undefined
        : setTimeout(() => {
            sendHeaders();
            h1(res).flushHeaders();
          }, HEAD_FLUSH_MS);
    up.body.on('data', (c: Buffer) => {
      clearTimeout(flushTimer);
      sendHeaders();
      info.bytesSent += c.length;
      if (!h1(res).write(c)) up.body.pause();
    });
    res.on('drain', () => up.body.resume());
    up.body.once('error', () => {
      clearTimeout(flushTimer);
      // The route timeout covers the whole response: past the headers it resets the stream (UT).
      if (result.timedOut()) {
        info.responseFlags.add('UT');
        stats.inc('cluster.{envoy_cluster_name}.upstream_rq_timeout', {
          envoy_cluster_name: result.cluster.name,
        });
      } else if (!timers.firedKind && !info.responseFlags.has('UMSDR')) info.responseFlags.add('UR');
      result.release();
      stream.resetHere = true;
      res.destroy();
    });
    up.body.once('end', () => {
      clearTimeout(flushTimer);
      void up.trailers.then((t) => {
        result.release();
        const hasTrailers = Object.keys(t).length > 0;
        if (hasTrailers) info.responseTrailers = t;
        if (isH2 && !headersSent && !hasTrailers) {
          // A headers-only HTTP/2 response (gRPC "trailers-only") ends with its HEADERS frame.
          headersSent = true;
          const stream = (res as Http2ServerResponse).stream;
          if (!stream.destroyed) stream.respond({ ':status': up.status, ...h }, { endStream: true });
          return;
        }
        sendHeaders();
        if (hasTrailers) res.addTrailers(t);
        res.end();
      });
    });
  }

  /** WebSocket (and other) upgrades: after route selection the connection becomes a byte pipe. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, conn: DownstreamConnection): void {
    const headers = requestHeaderRecord(req.headers);
    const authority = headers['host'] ?? '';
    const view: RequestView = {
      host: authority,
      path: req.url ?? '/',
      method: req.method ?? 'GET',
      header: (n) => headers[n],
    };
    const m = this.routes()?.match(view);
    const action = m?.route?.route.route;
    const upgradeType = (req.headers['upgrade'] ?? '').toLowerCase();
    const allowed = [...(this.config.upgradeConfigs ?? []), ...(action?.upgradeConfigs ?? [])].some(
      (u) => (u.upgradeType ?? '').toLowerCase() === upgradeType && u.enabled !== false,
    );
    const reject = (status: number): void => {
      socket.end(
        `HTTP/1.1 ${status} ${status === 404 ? 'Not Found' : status === 403 ? 'Forbidden' : 'Service Unavailable'}\r\ncontent-length: 0\r\n\r\n`,
      );
    };
    if (!action) return reject(404);
    if (!allowed) return reject(403);
    const name = chooseClusterName(action, view);
    const cluster = name ? this.ctx.clusters.get(name) : undefined;
    const host = cluster?.pick({ now: Date.now(), originalDst: conn.originalDst });
    if (!host) return reject(503);
    const up = net.connect({ host: host.address, port: host.port });
    up.setNoDelay(true);
    up.once('connect', () => {
      const lines = [`${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2)
        lines.push(`${req.rawHeaders[i] ?? ''}: ${req.rawHeaders[i + 1] ?? ''}`);
      up.write(lines.join('\r\n') + '\r\n\r\n');
      if (head.length > 0) up.write(head);
      up.pipe(socket);
      socket.pipe(up);
    });
    const close = (): void => {
      up.destroy();
      socket.destroy();
    };
    up.once('error', () => (up.readyState === 'opening' ? reject(503) : close()));
    socket.once('error', close);
    socket.once('close', () => up.destroy());
    up.once('close', () => socket.destroy());
  }

  /** How long a drained connection may stay open idle (`drain_timeout`, Envoy's default 5 s). */
  get drainTimeoutMs(): number {
    return durationMs(this.config.drainTimeout) ?? 5_000;
  }

  /** Connection idle timeout (`common_http_protocol_options.idle_timeout`, Envoy's default 1 h). */
  get idleTimeoutMs(): number {
    return durationMs(this.config.commonHttpProtocolOptions?.idleTimeout) ?? 3_600_000;
  }
}

/** The request as route matching reads it (pseudo-headers from the request line). */
class HcmRequestView implements RequestView {
  constructor(
    readonly host: string,
    readonly path: string,
    readonly method: string,
    readonly headers: Record<string, string>,
  ) {}

  header(n: string): string | undefined {
    return n === ':authority' || n === 'host'
      ? this.host
      : n === ':method'
        ? this.method
        : n === ':path'
          ? this.path
          : this.headers[n];
  }
}

type RouteConfigHeaders = Parameters<typeof routeRequest>[1]['routeConfigHeaders'];
const NO_ROUTE_CONFIG_HEADERS: RouteConfigHeaders = Object.freeze({});
const routeConfigHeaders = new WeakMap<RouteTable, RouteConfigHeaders>();

/** The route configuration's request header options, one object per table (not per request). */
function routeConfigHeadersOf(table: RouteTable | undefined): RouteConfigHeaders {
  const c = table?.config;
  if (!table || !c || (!c.requestHeadersToAdd && !c.requestHeadersToRemove)) return NO_ROUTE_CONFIG_HEADERS;
  let h = routeConfigHeaders.get(table);
  if (!h) {
    h = {
      ...(c.requestHeadersToAdd ? { add: c.requestHeadersToAdd } : {}),
      ...(c.requestHeadersToRemove ? { remove: c.requestHeadersToRemove } : {}),
    };
    routeConfigHeaders.set(table, h);
  }
  return h;
}

function chooseClusterName(action: routeComponentsV3.RouteActionJson, view: RequestView): string | undefined {
  if (action.cluster) return action.cluster;
  if (action.weightedClusters) return undefined;
  return chooseCluster(action, view)?.name;
}

function hostOnly(authority: string): string | undefined {
  if (!authority) return undefined;
  return authority.replace(/:\d+$/, '');
}

function redirectStatus(code: string | undefined): number {
  switch (code) {
    case 'FOUND':
      return 302;
    case 'SEE_OTHER':
      return 303;
    case 'TEMPORARY_REDIRECT':
      return 307;
    case 'PERMANENT_REDIRECT':
      return 308;
    default:
      return 301;
  }
}

function redirectLocation(
  r: routeComponentsV3.RedirectActionJson,
  info: StreamInfo,
  match: routeComponentsV3.RouteMatchJson | undefined,
  tls: boolean,
): string {
  const scheme = r.httpsRedirect ? 'https' : (r.schemeRedirect ?? (tls ? 'https' : 'http'));
  const [host0 = '', port0] = info.authority.split(':');
  const host = r.hostRedirect ?? host0;
  let port = r.portRedirect
    ? String(r.portRedirect)
    : r.httpsRedirect || r.schemeRedirect
      ? undefined
      : port0;
  if ((scheme === 'https' && port === '443') || (scheme === 'http' && port === '80')) port = undefined;
  let path = info.path;
  const q = path.indexOf('?');
  const query = q < 0 ? '' : path.slice(q);
  const bare = q < 0 ? path : path.slice(0, q);
  if (r.pathRedirect !== undefined)
    path = r.pathRedirect.includes('?') ? r.pathRedirect : r.pathRedirect + query;
  else if (r.prefixRewrite !== undefined && match?.prefix !== undefined)
    path = r.prefixRewrite + bare.slice(match.prefix.length) + query;
  if (r.stripQuery) path = path.split('?')[0] ?? path;
  return `${scheme}://${host}${port ? `:${port}` : ''}${path}`;
}
