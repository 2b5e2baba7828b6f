// One upstream attempt: sends the request to a host over the cluster's pooled HTTP/1.1 (undici)
// or HTTP/2 (node:http2) connections and yields the response head, body stream and trailers, or
// a classified failure (connect failure, reset, refused stream, timeout).
import type http2 from 'node:http2';
import type { Readable } from 'node:stream';
import type { OriginalSource } from '../listener/original-src.js';
import { errors as undiciErrors } from '../util/undici-core.js';
import type { Host } from '../endpoint/host.js';
import type { UpstreamCluster } from '../cluster/upstream-cluster.js';
import type { UpstreamProtocol } from '../endpoint/upstream-pools.js';
import { abortSignalOf, type AbortLike } from './cancel.js';

export interface UpstreamRequest {
  /** original_src: connect from the downstream client's address (HTTP/1.1 connections). */
  originalSource?: OriginalSource;
  method: string;
  path: string;
  authority: string;
  headers: Record<string, string | string[]>;
  /** Buffered body, a one-shot stream, or none. */
  body: Buffer | Readable | undefined;
  protocol: UpstreamProtocol;
  signal: AbortLike;
}

export interface UpstreamResponse {
  status: number;
  headers: Record<string, string | string[]>;
  body: Readable;
  /** Resolves with the trailers once the body has ended. */
  trailers: Promise<Record<string, string>>;
  /** The whole body when it was received with the head and has no trailers (see Http1Response). */
  complete?: Buffer | undefined;
}

export type AttemptResult =
  | { ok: true; response: UpstreamResponse }
  | {
      ok: false;
      failure: 'connect-failure' | 'reset' | 'refused-stream' | 'timeout' | 'aborted';
      detail: string;
    };

/** An attempt's error as the router classifies it (the signal's reason tells a timeout from an abort). */
export function classify(err: unknown, signal: AbortLike): AttemptResult {
  const e = err as { code?: string; message?: string; name?: string };
  const detail = e?.message ?? String(err);
  if (signal.aborted) {
    const reason = signal.reason as { name?: string } | undefined;
    return { ok: false, failure: reason?.name === 'TimeoutError' ? 'timeout' : 'aborted', detail };
  }
  if (
    err instanceof undiciErrors.ConnectTimeoutError ||
    e.code === 'ECONNREFUSED' ||
    e.code === 'UND_ERR_CONNECT_TIMEOUT' ||
    e.code === 'EHOSTUNREACH' ||
    e.code === 'ENETUNREACH' ||
    e.code === 'ENOTFOUND'
  ) {
    return { ok: false, failure: 'connect-failure', detail };
  }
  if (e.code === 'ERR_HTTP2_STREAM_ERROR' && /REFUSED_STREAM/.test(detail)) {
    return { ok: false, failure: 'refused-stream', detail };
  }
  return { ok: false, failure: 'reset', detail };
}

const H2_FORBIDDEN = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'host',
]);

async function viaHttp1(cluster: UpstreamCluster, host: Host, r: UpstreamRequest): Promise<AttemptResult> {
  const raw = cluster.pools.rawHttp1(host, r.originalSource);
  if (raw) {
    try {
      return { ok: true, response: await raw.request(r) };
    } catch (err) {
      return classify(err, r.signal);
    }
  }
  const pool = cluster.pools.http1(host);
  try {
    const res = await pool.request({
      method: r.method as 'GET',
      path: r.path,
      headers: { ...r.headers, host: r.authority },
      body: r.body ?? null,
      signal: abortSignalOf(r.signal),
    });
    let resolveTrailers: (t: Record<string, string>) => void = () => {};
    const trailers = new Promise<Record<string, string>>((resolve) => (resolveTrailers = resolve));
    res.body.once('end', () => resolveTrailers((res.trailers ?? {}) as Record<string, string>));
    res.body.once('error', () => resolveTrailers({}));
    res.body.once('close', () => resolveTrailers((res.trailers ?? {}) as Record<string, string>));
    return {
      ok: true,
      response: {
        status: res.statusCode,
        headers: res.headers as Record<string, string | string[]>,
        body: res.body,
        trailers,
      },
    };
  } catch (err) {
    return classify(err, r.signal);
  }
}

function viaHttp2(cluster: UpstreamCluster, host: Host, r: UpstreamRequest): Promise<AttemptResult> {
  return new Promise<AttemptResult>((resolve) => {
    let session: http2.ClientHttp2Session;
    try {
      session = cluster.pools.http2(host, r.originalSource).get();
    } catch (err) {
      resolve(classify(err, r.signal));
      return;
    }
    const headers: http2.OutgoingHttpHeaders = {
      ':method': r.method,
      ':path': r.path,
      ':authority': r.authority,
      ':scheme': 'http',
    };
    for (const [k, v] of Object.entries(r.headers))
      if (!H2_FORBIDDEN.has(k) && !k.startsWith(':')) headers[k] = v;
    let settled = false;
    const onSessionError = (err: unknown): void => {
      if (!settled) {
        settled = true;
        const res = classify(err, r.signal);
        // A session that never connected is a connect failure.
        resolve(
          res.ok || session.connecting ? { ok: false, failure: 'connect-failure', detail: String(err) } : res,
        );
      }
    };
    session.once('error', onSessionError);
    const connectTimer = setTimeout(() => {
      if (session.connecting) {
        session.destroy();
        onSessionError(new Error('connect timeout'));
      }
    }, cluster.connectTimeoutMs);
    connectTimer.unref();
    const stream = session.request(headers, {
      endStream: r.body === undefined,
      signal: abortSignalOf(r.signal),
    });
    let resolveTrailers: (t: Record<string, string>) => void = () => {};
    const trailers = new Promise<Record<string, string>>((res) => (resolveTrailers = res));
    stream.on('trailers', (t) => resolveTrailers(plain(t)));
    stream.once('close', () => resolveTrailers({}));
    stream.once('response', (h) => {
      clearTimeout(connectTimer);
      session.off('error', onSessionError);
      if (settled) return;
      settled = true;
      const status = Number(h[':status'] ?? 502);
      resolve({ ok: true, response: { status, headers: plain(h), body: stream, trailers } });
    });
    stream.once('error', (err) => {
      clearTimeout(connectTimer);
      if (!settled) {
        settled = true;
        resolve(classify(err, r.signal));
      }
    });
    if (Buffer.isBuffer(r.body)) stream.end(r.body);
    else if (r.body) r.body.pipe(stream);
  });
}

function plain(h: http2.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) {
    if (k.startsWith(':') || v === undefined) continue;
    out[k] = Array.isArray(v) ? v.join(', ') : String(v);
  }
  return out;
}

export function sendUpstream(
  cluster: UpstreamCluster,
  host: Host,
  r: UpstreamRequest,
): Promise<AttemptResult> {
  return r.protocol === 'http2' ? viaHttp2(cluster, host, r) : viaHttp1(cluster, host, r);
}
