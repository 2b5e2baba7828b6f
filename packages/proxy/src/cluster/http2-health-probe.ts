// HTTP health checks over HTTP/2 (`http_health_check.codec_client_type: HTTP2`): a GET over h2c,
// or over the cluster's TLS with ALPN h2, answered by its `:status` (and
// `x-envoy-immediate-health-check-fail`) as an HTTP/1.1 check is. With `reuse_connection`
// (Envoy's default) a host's checks share one session, opened again when it closes; a check that
// times out or errs closes it. Without it, each check has a session of its own.
import type http2 from 'node:http2';
import type { Host } from '../endpoint/host.js';
import type { TlsContext } from '../transport-socket/tls-context.js';
import type { IMMEDIATE_FAIL, Probe } from './health-checker.js';
import { httpVerdict, openProbeSession, type HttpHealthCheckJson } from './health-probes.js';

type Verdict = boolean | typeof IMMEDIATE_FAIL;

/** The probe; `headers` are the check's request headers, `host` among them (the :authority). */
export function http2Probe(
  cfg: HttpHealthCheckJson,
  headers: Record<string, string>,
  tlsFor: (host: Host) => TlsContext | undefined,
  reuse: boolean,
): Probe {
  const { host: authority, ...rest } = headers;
  const kept = new Map<string, http2.ClientHttp2Session>();

  const sessionFor = (host: Host): http2.ClientHttp2Session | undefined => {
    const tls = tlsFor(host);
    // Keyed by the socket too: a host whose socket changed gets a new session.
    const key = `${host.key} ${tls ? 'tls' : 'raw'}`;
    const live = kept.get(key);
    if (live && !live.closed && !live.destroyed) return live;
    const session = openProbeSession(host, tls);
    if (!session) return undefined;
    session.on('error', () => {}); // each check listens for its own outcome
    if (reuse) {
      kept.set(key, session);
      session.once('close', () => {
        if (kept.get(key) === session) kept.delete(key);
      });
    }
    return session;
  };

  const probe: Probe = (host: Host, signal: AbortSignal) =>
    new Promise<Verdict>((resolve) => {
      const session = sessionFor(host);
      if (!session) return resolve(false);
      let settled = false;
      const done = (verdict: Verdict, keep: boolean): void => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        session.off('close', onClose);
        session.off('error', onError);
        if (!reuse || !keep) session.destroy();
        resolve(verdict);
      };
      const onAbort = (): void => done(false, false);
      const onClose = (): void => done(false, false);
      const onError = (): void => done(false, false);
      signal.addEventListener('abort', onAbort, { once: true });
      session.once('close', onClose);
      session.once('error', onError);
      let stream: http2.ClientHttp2Stream;
      try {
        stream = session.request({
          ':method': 'GET',
          ':path': cfg.path ?? '/',
          ':authority': authority ?? host.key,
          ...rest,
        });
      } catch {
        return done(false, false);
      }
      let verdict: Verdict = false;
      stream.once('response', (h) => {
        verdict = httpVerdict(Number(h[':status'] ?? 0), h, cfg.expectedStatuses);
      });
      stream.resume();
      stream.once('error', () => done(false, false));
      stream.once('end', () => done(verdict, true));
      stream.end();
    });
  probe.close = () => {
    for (const s of kept.values()) s.destroy();
    kept.clear();
  };
  return probe;
}
