// One downstream request inside the HTTP connection manager: its timers' handler, local replies,
// the response header rules applied to every answer, and the end of the stream — one object with
// methods per request instead of a set of closures over the request's variables.
import type { ServerResponse } from 'node:http';
import type { Http2ServerResponse } from 'node:http2';
import type { routeComponentsV3 } from '@skein/api-types';
import type { RouteTable } from '../router/route-table.js';
import type { Cancel } from '../router/cancel.js';
import type { FilterRequest, HttpFilter } from '../http-filters/http-filter.js';
import { applyHeaderOptions, removeHeaders } from '../http-filters/header-mutation-filter.js';
import type { RequestSpan } from '../tracing/tracer.js';
import {
  PEER_METADATA_HEADER,
  PEER_METADATA_ID_HEADER,
  encodePeerMetadata,
} from '../stats/workload-metadata.js';
import type { PeerMetadata, HttpStreamInfo } from './stream-info.js';
import {
  StreamTimers,
  TIMEOUT_REPLY,
  type HcmTimeouts,
  type StreamTimeoutHandler,
  type StreamTimeoutKind,
} from './stream-timeouts.js';
import type { ResponseObserver } from './http1-server-connection.js';
import type { RouterResult } from '../router/router-filter.js';
import type { RouteSink } from '../router/single-attempt.js';
import type { httpConnectionManagerV3 } from '@skein/api-types';

type AnyRes = ServerResponse | Http2ServerResponse;
/** Both response kinds accept these calls; the HTTP/1 signatures stand for both. */
const h1 = (res: AnyRes): ServerResponse => res as ServerResponse;

/** What a stream reads from its connection manager (one object per manager, not per request). */
export interface StreamOwner {
  readonly config: httpConnectionManagerV3.HttpConnectionManagerJson;
  readonly timeouts: HcmTimeouts;
  readonly filters: readonly HttpFilter[];
  readonly nodeId: string;
  readonly local: PeerMetadata;
  /** Counts a stream timeout (its HCM counter's stat name suffix). */
  countTimeout(stat: string): void;
  /** The stream is over: stats, metrics, access logs, span. */
  streamEnded(stream: DownstreamStream): void;
  /** The router's result for this stream: the response (or local reply) goes downstream. */
  forward(stream: DownstreamStream, result: RouterResult): void;
  /** Handling the request failed (an exception): 500 when nothing was sent yet. */
  failed(err: unknown, res: AnyRes): void;
}

export class DownstreamStream implements StreamTimeoutHandler, ResponseObserver, RouteSink {
  /** 'finish' or 'close' was handled (the stream was recorded). */
  finished = false;
  /** The whole request body was received. */
  requestDone = false;
  /** The proxy itself reset this stream (a timeout), so its close is not the downstream's (DC). */
  resetHere = false;
  /** Only the HTTP filters read it: none is made for a chain with the router alone. */
  filterReq: FilterRequest | undefined = undefined;
  span: RequestSpan | undefined = undefined;
  readonly timers: StreamTimers;

  constructor(
    private readonly owner: StreamOwner,
    readonly res: AnyRes,
    readonly info: HttpStreamInfo,
    readonly gone: Cancel,
    readonly route: routeComponentsV3.RouteJson | undefined,
    readonly vhost: routeComponentsV3.VirtualHostJson | undefined,
    readonly table: RouteTable | undefined,
    private readonly inbound: boolean,
    readonly isH2: boolean,
  ) {
    // A stream timeout answers locally (408/504) before response headers, else resets the stream.
    this.timers = new StreamTimers(info.startMs, owner.timeouts, res, this, !isH2);
  }

  streamTimeout(kind: StreamTimeoutKind): void {
    const t = TIMEOUT_REPLY[kind];
    this.owner.countTimeout(t.stat);
    if (t.flag) this.info.responseFlags.add(t.flag);
    if (this.res.headersSent) {
      this.resetHere = true;
      this.res.destroy();
    } else this.localReply(kind === 'request' || !this.requestDone ? 408 : 504, t.body);
    this.gone.abort();
  }

  /** The route's, virtual host's and route configuration's response header options. */
  private responseHeaderOps(h: Record<string, string | string[]>): void {
    const { route, vhost, table } = this;
    applyHeaderOptions(h, route?.responseHeadersToAdd);
    removeHeaders(h, route?.responseHeadersToRemove);
    applyHeaderOptions(h, vhost?.responseHeadersToAdd);
    removeHeaders(h, vhost?.responseHeadersToRemove);
    applyHeaderOptions(h, table?.config.responseHeadersToAdd);
    removeHeaders(h, table?.config.responseHeadersToRemove);
  }

  /** Every answer's headers (upstream or local): filters, header options, Envoy's own headers. */
  finishResponse(status: number, h: Record<string, string | string[]>): Record<string, string | string[]> {
    const { info, filterReq } = this;
    const cfg = this.owner.config;
    if (filterReq) for (const f of this.owner.filters) f.onResponse?.(filterReq, status, h);
    this.responseHeaderOps(h);
    if (this.inbound) {
      h[PEER_METADATA_ID_HEADER] = this.owner.nodeId;
      h[PEER_METADATA_HEADER] = encodePeerMetadata(this.owner.local);
    }
    if (cfg.alwaysSetRequestIdInResponse && info.requestId) h['x-request-id'] = info.requestId;
    const st = cfg.serverHeaderTransformation ?? 'OVERWRITE';
    if (st === 'OVERWRITE' || (st === 'APPEND_IF_ABSENT' && h['server'] === undefined))
      h['server'] = cfg.serverName ?? 'envoy';
    info.responseCode = status;
    info.responseHeaders = flatHeaders(h);
    return h;
  }

  /** Answers from the proxy itself (or resets the stream when the response has begun). */
  localReply(status: number, body: string, extra?: Record<string, string>): void {
    const res = this.res;
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const h: Record<string, string | string[]> = { ...extra };
    if (body && !h['content-type']) h['content-type'] = 'text/plain';
    h['content-length'] = String(Buffer.byteLength(body));
    this.finishResponse(status, h);
    h1(res).writeHead(status, h);
    res.end(body);
    this.info.bytesSent = Buffer.byteLength(body);
  }

  /** The router's result (the HCM's continuation, without a promise on the common path). */
  routed(result: RouterResult): void {
    try {
      this.owner.forward(this, result);
    } catch (err) {
      this.owner.failed(err, this.res);
    }
  }

  routeFailed(err: unknown): void {
    this.owner.failed(err, this.res);
  }

  /** The response's 'finish' (fires once, before 'close'). */
  responseFinished(): void {
    this.finished = true;
    this.timers.clear();
    this.owner.streamEnded(this);
  }

  /** The response's 'close': after 'finish', or the downstream went away first. */
  responseClosed(): void {
    this.timers.clear();
    if (this.finished) return;
    const res = this.res;
    if (!res.writableFinished && !this.resetHere) {
      this.info.responseFlags.add('DC');
      this.gone.abort();
    }
    this.finished = true;
    this.owner.streamEnded(this);
  }
}

/** Response headers with one string per name (the record itself when it has no lists). */
function flatHeaders(h: Record<string, string | string[]>): Record<string, string> {
  for (const k in h) {
    if (Array.isArray(h[k])) {
      const out: Record<string, string> = {};
      for (const n in h) {
        const v = h[n];
        if (v !== undefined) out[n] = Array.isArray(v) ? v.join(', ') : v;
      }
      return out;
    }
  }
  return h as Record<string, string>;
}
