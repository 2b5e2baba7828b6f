// Per-stream timers of the HTTP connection manager, with Envoy's semantics: stream idle timeout
// (HCM `stream_idle_timeout`, default 5 min, overridden by the route's `idle_timeout`), the whole
// request's `request_timeout`, and `max_stream_duration` (HCM `common_http_protocol_options`,
// overridden by the route's `max_stream_duration` and its gRPC `grpc-timeout` cap).
import type { routeComponentsV3 } from '@skein/api-types';
import { durationMs } from '../util/duration.js';
import type { HcmJson } from './connection-manager.js';

/** Envoy's default stream idle timeout. */
export const DEFAULT_STREAM_IDLE_MS = 300_000;

export interface HcmTimeouts {
  /** 0 disables. */
  streamIdleMs: number;
  requestMs: number;
  requestHeadersMs: number;
  maxStreamDurationMs: number;
}

export function hcmTimeoutsOf(hcm: HcmJson): HcmTimeouts {
  return {
    streamIdleMs: durationMs(hcm.streamIdleTimeout) ?? DEFAULT_STREAM_IDLE_MS,
    requestMs: durationMs(hcm.requestTimeout) ?? 0,
    requestHeadersMs: durationMs(hcm.requestHeadersTimeout) ?? 0,
    maxStreamDurationMs: durationMs(hcm.commonHttpProtocolOptions?.maxStreamDuration) ?? 0,
  };
}

/** gRPC's `grpc-timeout` header ("100m", "2S", ...) in ms, or undefined when absent or malformed. */
export function grpcTimeoutMs(value: string | undefined): number | undefined {
  const m = value ? /^(\d{1,8})([HMSmun])$/.exec(value) : null;
  if (!m?.[1] || !m[2]) return undefined;
  const n = Number(m[1]);
  const unit = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000001 }[m[2]] ?? 1;
  return Math.ceil(n * unit);
}

/**
 * The stream's idle and duration limits once its route is known: the route's `idle_timeout`
 * replaces the HCM's stream idle timeout; the route's `max_stream_duration` replaces the HCM's,
 * and with `grpc_timeout_header_max` a request's `grpc-timeout` (capped by it, 0 = no cap) wins.
 */
export function routeStreamLimits(
  base: HcmTimeouts,
  action: routeComponentsV3.RouteActionJson | undefined,
  grpcTimeout: string | undefined,
): { idleMs: number; durationMs: number } {
  const idle = durationMs(action?.idleTimeout);
  const msd = action?.maxStreamDuration;
  let duration = base.maxStreamDurationMs;
  const routeMax = durationMs(msd?.maxStreamDuration);
  if (routeMax !== undefined) duration = routeMax;
  const headerMax = durationMs(msd?.grpcTimeoutHeaderMax);
  const fromHeader = headerMax !== undefined ? grpcTimeoutMs(grpcTimeout) : undefined;
  if (fromHeader !== undefined && headerMax !== undefined) {
    const offset = durationMs(msd?.grpcTimeoutHeaderOffset) ?? 0;
    const t = Math.max(0, fromHeader - offset);
    duration = headerMax > 0 ? Math.min(t, headerMax) : t;
  }
  return { idleMs: idle ?? base.streamIdleMs, durationMs: duration };
}

export type StreamTimeoutKind = 'idle' | 'request' | 'duration';

/** How Envoy answers each timeout: local reply details, response flag and HCM counter. */
export const TIMEOUT_REPLY: Record<StreamTimeoutKind, { body: string; flag?: string; stat: string }> = {
  idle: { body: 'stream timeout', flag: 'SI', stat: 'downstream_rq_idle_timeout' },
  request: { body: 'request timeout', stat: 'downstream_rq_timeout' },
  duration: { body: 'downstream duration timeout', flag: 'DT', stat: 'downstream_rq_max_duration_reached' },
};

/**
 * Where a stream's idle timeout lives: the socket's or HTTP/2 stream's own timer, which Node
 * restarts on every byte read or written. For HTTP/1 the HCM's default is the connection's HTTP
 * server `timeout` (armed by Node for each request, no per-request work): its 'timeout' event
 * finds the stream through `ON_STREAM_IDLE` on the current response. (A setTimeout per stream
 * cost about 7% more CPU per request in an A/B against the previous build on this shared,
 * noisy machine; a process-wide sweep set measured worse.)
 */
export interface IdleTarget {
  setTimeout(ms: number, onTimeout?: () => void): unknown;
  [ON_STREAM_IDLE]?: StreamIdleHandler;
}

/**
 * What `ON_STREAM_IDLE` holds: the stream's timers themselves, not a closure made per stream (a
 * closure made in StreamTimers' constructor kept a fifth of every request's allocations alive
 * through each scavenge until the next mark-compact; see the package README, Performance).
 */
export interface StreamIdleHandler {
  streamIdle(): void;
}

/** Called once by a stream's timers with the first timeout that fired. */
export interface StreamTimeoutHandler {
  streamTimeout(kind: StreamTimeoutKind): void;
}

/** On an HTTP/1 response: fires its stream's idle timeout (called by the server's 'timeout'). */
export const ON_STREAM_IDLE = Symbol('skein.onStreamIdle');

/** The timers of one stream; the first to fire calls `onFire.streamTimeout` once and disarms the rest. */
export class StreamTimers implements StreamIdleHandler {
  private idleArmed = false;
  private request: NodeJS.Timeout | undefined;
  private duration: NodeJS.Timeout | undefined;
  private fired: StreamTimeoutKind | undefined;

  constructor(
    private readonly startMs: number,
    limits: HcmTimeouts,
    private readonly idleTarget: IdleTarget,
    private readonly onFire: StreamTimeoutHandler,
    /** HTTP/1: the server's `timeout` already enforces `limits.streamIdleMs` on the socket. */
    private readonly serverEnforcesIdle = false,
  ) {
    if (serverEnforcesIdle) idleTarget[ON_STREAM_IDLE] = this;
    else this.setIdle(limits.streamIdleMs);
    if (limits.requestMs > 0) this.request = this.arm('request', limits.requestMs);
    this.setDuration(limits.maxStreamDurationMs);
  }

  /** The server's idle timeout fired on this stream's socket. */
  streamIdle(): void {
    this.fire('idle');
  }

  /** Which timer fired, if any. */
  get firedKind(): StreamTimeoutKind | undefined {
    return this.fired;
  }

  private arm(kind: StreamTimeoutKind, ms: number): NodeJS.Timeout {
    const t = setTimeout(() => this.fire(kind), Math.max(0, ms));
    t.unref();
    return t;
  }

  private fire(kind: StreamTimeoutKind): void {
    if (this.fired) return;
    this.fired = kind;
    this.clear();
    this.onFire.streamTimeout(kind);
  }

  /** The stream idle timeout (0 disables it), counted from the last byte either way. */
  setIdle(ms: number): void {
    if (this.fired) return;
    // The socket's timer for this request only: Node re-arms the server's for the next one.
    if (this.serverEnforcesIdle) return void this.idleTarget.setTimeout(ms);
    if (ms > 0 && !this.idleArmed) {
      this.idleArmed = true;
      this.idleTarget.setTimeout(ms, () => this.fire('idle'));
    } else if (this.idleArmed) this.idleTarget.setTimeout(ms);
  }

  /** The stream's maximum duration, measured from its start. */
  setDuration(ms: number): void {
    if (this.fired) return;
    clearTimeout(this.duration);
    this.duration = ms > 0 ? this.arm('duration', this.startMs + ms - Date.now()) : undefined;
  }

  /** The whole request has been received: request_timeout no longer applies. */
  requestComplete(): void {
    clearTimeout(this.request);
    this.request = undefined;
  }

  clear(): void {
    if (this.idleArmed && !this.fired) this.idleTarget.setTimeout(0);
    this.idleArmed = false;
    clearTimeout(this.request);
    clearTimeout(this.duration);
    this.request = this.duration = undefined;
  }
}

/** Envoy's answer to request_headers_timeout: 408 "request header timeout", then close. */
export function replyHeaderTimeout(socket: {
  write(b: string): unknown;
  destroySoon?: () => void;
  destroy(): unknown;
}): void {
  const body = 'request header timeout';
  socket.write(
    `HTTP/1.1 408 Request Timeout\r\ncontent-length: ${body.length}\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n${body}`,
  );
  if (socket.destroySoon) socket.destroySoon();
  else socket.destroy();
}
