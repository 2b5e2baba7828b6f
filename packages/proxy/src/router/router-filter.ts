// The router: takes a matched route's action to an upstream — chooses the cluster, rewrites,
// admits through the circuit breaker, picks hosts, retries per policy (with the previous-hosts
// predicate and backoff), enforces timeouts, mirrors, and streams the response back.
import { Readable, Transform } from 'node:stream';
import type { routeComponentsV3 } from '@skein/api-types';
import type { UpstreamCluster } from '../cluster/upstream-cluster.js';
import type { Host } from '../endpoint/host.js';
import type { ProxyContext, DownstreamConnection } from '../http-connection-manager/proxy-context.js';
import type { StreamInfo } from '../http-connection-manager/stream-info.js';
import { applyHeaderOptions, removeHeaders } from '../http-filters/header-mutation-filter.js';
import type { RequestView } from './route-table.js';
import { chooseCluster, requestHash, rewritePath, routeTimeoutMs } from './route-action.js';
import { retryPolicyOf, withConditions, type RetryPolicy } from './retry-policy.js';
import { sendUpstream, type UpstreamResponse } from './upstream-request.js';
import { AttemptSignal } from './upstream-timeouts.js';
import type { UpstreamProtocol } from '../endpoint/upstream-pools.js';
import type { AbortLike } from './cancel.js';
import { LEGACY_HTTP1 } from '../codec/http1-path.js';
import { SingleAttempt } from './single-attempt.js';
import type { LocalReply } from './upstream-failure.js';
import { noHealthyUpstream, runAttempts, type AttemptPlan } from './attempts.js';

/** Largest request body buffered so it can be retried or mirrored (Envoy's default buffer). */
const MAX_BUFFERED_BODY = 1024 * 1024;

export interface RouterRequest {
  method: string;
  path: string;
  authority: string;
  headers: Record<string, string>;
  /** The downstream body stream, or undefined when the request has none. */
  body: Readable | undefined;
  contentLength: number | undefined;
  downstreamProtocol: UpstreamProtocol;
  view: RequestView;
  route: routeComponentsV3.RouteJson;
  vhost: routeComponentsV3.VirtualHostJson;
  routeConfigHeaders: {
    add?: routeComponentsV3.VirtualHostJson['requestHeadersToAdd'];
    remove?: string[];
  };
  conn: DownstreamConnection;
  info: StreamInfo;
  /** Aborted when the downstream goes away. */
  downstreamGone: AbortLike;
}

export type RouterResult =
  | {
      kind: 'response';
      response: UpstreamResponse;
      cluster: UpstreamCluster;
      host: Host;
      release: () => void;
      /** True once the route (or per-try) timeout has fired: it covers the response body too. */
      timedOut: () => boolean;
    }
  | LocalReply;

/**
 * Reads a body up to `limit` bytes: the whole body as a Buffer when it fits, else a stream that
 * replays what was read and continues with the rest (then it cannot be retried).
 */
async function readBody(body: Readable, limit: number): Promise<Buffer | Readable> {
  const chunks: Buffer[] = [];
  let size = 0;
  const it = body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  for (;;) {
    const n = await it.next();
    if (n.done) return Buffer.concat(chunks);
    chunks.push(n.value);
    size += n.value.length;
    if (size > limit) {
      return Readable.from(
        (async function* () {
          yield* chunks;
          for (let m = await it.next(); !m.done; m = await it.next()) yield m.value;
        })(),
      );
    }
  }
}

function effectiveRetryPolicy(req: RouterRequest): RetryPolicy | undefined {
  const action = req.route.route ?? {};
  const base = retryPolicyOf(action.retryPolicy ?? req.vhost.retryPolicy);
  const hdrOn = req.headers['x-envoy-retry-on'];
  const hdrMax = req.headers['x-envoy-max-retries'];
  if (!base && !hdrOn) return undefined;
  if (base && !hdrOn && !hdrMax) return base;
  const p: RetryPolicy = base ?? retryPolicyOf({})!;
  return withConditions(
    p,
    hdrOn ? new Set([...p.on, ...hdrOn.split(',').map((s) => s.trim())]) : p.on,
    hdrMax && /^\d+$/.test(hdrMax) ? Number(hdrMax) : p.numRetries,
  );
}

const NO_MIRRORS: readonly routeComponentsV3.RouteAction_RequestMirrorPolicyJson[] = Object.freeze([]);

/** The downstream body as sent upstream, counting the bytes received as they stream. */
function counted(from: Readable | undefined, info: StreamInfo): Readable | undefined {
  if (!from) return undefined;
  return from.pipe(
    new Transform({
      transform(chunk: Buffer, _enc, cb) {
        info.bytesReceived += chunk.length;
        cb(null, chunk);
      },
    }),
  );
}

/** The circuit breaker refused the request (pending queue or request limit): 503, flag UO. */
function overflowReply(
  ctx: ProxyContext,
  cluster: UpstreamCluster,
  admit: 'pending' | 'requests',
): LocalReply {
  ctx.stats.inc(
    admit === 'pending'
      ? 'cluster.{envoy_cluster_name}.upstream_rq_pending_overflow'
      : 'cluster.{envoy_cluster_name}.upstream_rq_overflow',
    { envoy_cluster_name: cluster.name },
  );
  return {
    kind: 'local',
    status: 503,
    body: 'upstream connect error or disconnect/reset before headers. reset reason: overflow',
    flag: 'UO',
  };
}

/** What the router decided before any attempt: where the request goes and how. */
interface Plan extends AttemptPlan {
  mirrors: readonly routeComponentsV3.RouteAction_RequestMirrorPolicyJson[];
}

/**
 * Runs the router for a request whose route has a `route` action. The common request (one
 * HTTP/1.1 attempt: no retry policy, mirror or stream duration limit) runs synchronously up to the
 * pool and returns the attempt itself (`SingleAttempt`: its result is delivered to a sink, or
 * through its `promise`); everything else takes the general path.
 */
export function routeRequest(ctx: ProxyContext, req: RouterRequest): Promise<RouterResult> | SingleAttempt {
  const action = req.route.route ?? {};
  const { stats, clusters } = ctx;
  const chosen = chooseCluster(action, req.view);
  if (!chosen) return Promise.resolve({ kind: 'local', status: 503, body: 'no cluster', flag: 'NC' });
  req.info.clusterName = chosen.name;
  const cluster = clusters.get(chosen.name);
  if (!cluster) {
    const code = action.clusterNotFoundResponseCode === 'NOT_FOUND' ? 404 : 503;
    return Promise.resolve({ kind: 'local', status: code, body: '', flag: 'NC' });
  }
  stats.counter('cluster.{envoy_cluster_name}.upstream_rq_total', 'envoy_cluster_name', cluster.name).value++;
  if (cluster.tls) req.info.upstreamTls = true;

  // Upstream request headers: route-level, virtual host, then route configuration options.
  const headers: Record<string, string | string[]> = { ...req.headers };
  applyHeaderOptions(headers, chosen.weighted?.requestHeadersToAdd);
  removeHeaders(headers, chosen.weighted?.requestHeadersToRemove);
  applyHeaderOptions(headers, req.route.requestHeadersToAdd);
  removeHeaders(headers, req.route.requestHeadersToRemove);
  applyHeaderOptions(headers, req.vhost.requestHeadersToAdd);
  removeHeaders(headers, req.vhost.requestHeadersToRemove);
  applyHeaderOptions(headers, req.routeConfigHeaders.add);
  removeHeaders(headers, req.routeConfigHeaders.remove);

  const path = rewritePath(action, req.route.match, req.path);
  if (path !== req.path) headers['x-envoy-original-path'] = req.path;
  let authority = req.authority;
  if (action.hostRewriteLiteral) authority = action.hostRewriteLiteral;
  else if (action.hostRewriteHeader && req.headers[action.hostRewriteHeader.toLowerCase()]) {
    authority = req.headers[action.hostRewriteHeader.toLowerCase()] ?? authority;
  }
  if (action.hostRewriteLiteral || action.hostRewriteHeader) headers['x-forwarded-host'] = req.authority;

  const timeoutMs = routeTimeoutMs(action, req.view);
  const policy = effectiveRetryPolicy(req);
  const perTry = policy?.perTryTimeoutMs;
  if (timeoutMs > 0 || perTry) headers['x-envoy-expected-rq-timeout-ms'] = String(perTry ?? timeoutMs);
  delete headers['x-envoy-retry-on'];
  delete headers['x-envoy-max-retries'];
  delete headers['x-envoy-upstream-rq-timeout-ms'];

  const protocol: UpstreamProtocol =
    cluster.protocol === 'downstream' ? req.downstreamProtocol : cluster.protocol;
  const mirrors = action.requestMirrorPolicies ?? NO_MIRRORS;
  // A retrying route's first attempt takes the fast path too when there is no body to buffer for
  // a replay; a retriable outcome continues in the general attempts loop (SingleAttempt).
  if (
    (!policy || req.body === undefined) &&
    mirrors.length === 0 &&
    protocol === 'http1' &&
    !LEGACY_HTTP1 &&
    !(cluster.maxStreamDurationMs > 0)
  )
    return singleAttempt(ctx, req, action, cluster, headers, path, authority, timeoutMs, policy);
  return routeGeneral(ctx, req, {
    action,
    cluster,
    headers,
    path,
    authority,
    timeoutMs,
    policy,
    protocol,
    mirrors,
  });
}

/**
 * The common request: one attempt, its result settled by the pool (see SingleAttempt). With a
 * retry policy (and no request body) this is the first attempt, the general loop's attempt 1.
 */
function singleAttempt(
  ctx: ProxyContext,
  req: RouterRequest,
  action: routeComponentsV3.RouteActionJson,
  cluster: UpstreamCluster,
  headers: Record<string, string | string[]>,
  path: string,
  authority: string,
  timeoutMs: number,
  policy: RetryPolicy | undefined,
): Promise<RouterResult> | SingleAttempt {
  const body = counted(req.body, req.info);
  const admit = cluster.circuitBreaker.tryAcquire();
  if (admit !== 'ok') return Promise.resolve(overflowReply(ctx, cluster, admit));
  const now = Date.now();
  const hash = requestHash(action, req.view, req.conn.remoteAddress);
  const host = cluster.pick({ now, hash, avoid: undefined, originalDst: req.conn.originalDst });
  if (!host) {
    cluster.circuitBreaker.release();
    return Promise.resolve(noHealthyUpstream(ctx, cluster));
  }
  req.info.attempts = 1;
  req.info.upstreamHost = host.key;
  // The route (or per-try) timeout counts from the end of the downstream request.
  const deadline = timeoutMs > 0 ? now + timeoutMs : Infinity;
  const perTry = policy?.perTryTimeoutMs;
  const tryMs = perTry !== undefined ? Math.min(deadline - now, perTry) : deadline - now;
  const abort = Number.isFinite(tryMs)
    ? new AttemptSignal(req.downstreamGone, req.body, Math.max(1, tryMs), undefined)
    : undefined;
  if (req.vhost.includeRequestAttemptCount) headers['x-envoy-attempt-count'] = '1';
  host.activeRequests++;
  const attempt = new SingleAttempt(
    ctx,
    req,
    action,
    cluster,
    host,
    path,
    authority,
    headers,
    body,
    abort ? abort.signal : req.downstreamGone,
    abort,
    timeoutMs,
    policy,
    hash,
    deadline,
  );
  try {
    const pool = cluster.pools.rawHttp1(host, req.conn.originalSource);
    if (pool) pool.send(attempt);
    else attempt.reject(new Error('no raw HTTP/1.1 pool'));
  } catch (err) {
    attempt.reject(err);
  }
  return attempt;
}

/** Everything else: body buffering for retries and mirrors, mirrors, attempts with retries. */
async function routeGeneral(ctx: ProxyContext, req: RouterRequest, plan: Plan): Promise<RouterResult> {
  const { cluster, headers, path, authority, timeoutMs, policy, mirrors } = plan;
  const { clusters } = ctx;

  // Body: buffered when it may be sent more than once (retries, mirroring) and small enough.
  let body: Buffer | Readable | undefined = req.body;
  let canReplay = body === undefined;
  if (req.body && (policy || mirrors.length > 0) && (req.contentLength ?? 0) <= MAX_BUFFERED_BODY) {
    const read = await readBody(req.body, MAX_BUFFERED_BODY);
    if (Buffer.isBuffer(read)) {
      body = read;
      canReplay = true;
      req.info.bytesReceived = read.length;
    } else body = read;
  }
  if (!Buffer.isBuffer(body)) body = counted(body, req.info);

  // Circuit breaker admission.
  const admit = cluster.circuitBreaker.tryAcquire();
  if (admit !== 'ok') return overflowReply(ctx, cluster, admit);
  let released = false;
  const release = (): void => {
    if (!released) {
      released = true;
      cluster.circuitBreaker.release();
    }
  };

  // Mirrors: fire and forget, with a "-shadow" authority, when the body can be replayed.
  if (canReplay) {
    for (const m of mirrors) {
      const mc = m.cluster ? clusters.get(m.cluster) : undefined;
      const mh = mc?.pick({ now: Date.now() });
      if (!mc || !mh) continue;
      const shadowAuthority = authority.replace(/^([^:]*)/, '$1-shadow');
      void sendUpstream(mc, mh, {
        method: req.method,
        path,
        authority: shadowAuthority,
        headers: { ...headers },
        body: body as Buffer | undefined,
        protocol: mc.protocol === 'downstream' ? req.downstreamProtocol : mc.protocol,
        signal: AbortSignal.timeout(timeoutMs > 0 ? timeoutMs : 60_000),
      }).then((r) => {
        if (r.ok) r.response.body.resume();
      });
    }
  }
  return runAttempts(ctx, req, plan, body, canReplay, release, undefined);
}
