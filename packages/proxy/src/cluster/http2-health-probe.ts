// HTTP health checks over HTTP/2 (`http_health_check.codec_client_type: HTTP2`): a GET on a new
// h2c session, or over the cluster's TLS with ALPN h2, answered by its `:status` (and
// `x-envoy-immediate-health-check-fail`) as an HTTP/1.1 check is.
import type { Host } from '../endpoint/host.js';
import type { TlsContext } from '../transport-socket/tls-context.js';
import type { IMMEDIATE_FAIL, Probe } from './health-checker.js';
import { httpVerdict, probeSession, type HttpHealthCheckJson } from './health-probes.js';

/** The probe; `headers` are the check's request headers, `host` among them (the :authority). */
export function http2Probe(
  cfg: HttpHealthCheckJson,
  headers: Record<string, string>,
  tls: TlsContext | undefined,
): Probe {
  const { host: authority, ...rest } = headers;
  return (host: Host, signal: AbortSignal) =>
    new Promise<boolean | typeof IMMEDIATE_FAIL>((resolve) => {
      const opened = probeSession<boolean | typeof IMMEDIATE_FAIL>(host, tls, signal, resolve);
      if (!opened) return;
      const { session, done } = opened;
      session.once('close', () => done(false));
      const stream = session.request({
        ':method': 'GET',
        ':path': cfg.path ?? '/',
        ':authority': authority ?? host.key,
        ...rest,
      });
      let verdict: boolean | typeof IMMEDIATE_FAIL = false;
      stream.once('response', (h) => {
        verdict = httpVerdict(Number(h[':status'] ?? 0), h, cfg.expectedStatuses);
      });
      stream.resume();
      stream.once('error', () => done(false));
      stream.once('end', () => done(verdict));
      stream.end();
    });
}
