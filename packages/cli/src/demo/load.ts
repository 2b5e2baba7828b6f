// The demo's client workload: steady, open-loop traffic at a fixed rate through the client's
// own sidecar, each response attributed to the version that served it.
import { Pool } from 'undici';
import type { StepStats } from './stats.js';

export interface LoadOptions {
  /** The client sidecar's egress listener, e.g. http://127.0.0.20:9080. */
  readonly target: string;
  /** The service host the client asks for. */
  readonly host: string;
  readonly rps: number;
}

export interface Outcome {
  readonly status: number;
  readonly version?: string;
  readonly body: string;
  readonly ms: number;
  readonly error?: string;
  readonly headers: Record<string, string>;
}

/** Classifies one outcome into the current step's stats. */
export type Recorder = (o: Outcome, requestHeaders: Record<string, string>) => void;

export class Load {
  private readonly pool: Pool;
  private timer: NodeJS.Timeout | undefined;
  private seq = 0;
  private inFlight = 0;
  private idle: (() => void)[] = [];
  recorder: Recorder = () => {};
  /** Extra headers of the i-th request (e.g. end-user on every other one). */
  headersFor: (i: number) => Record<string, string> = () => ({});

  constructor(private readonly opts: LoadOptions) {
    this.pool = new Pool(opts.target, { connections: 16, pipelining: 1, keepAliveTimeout: 30_000 });
  }

  /** One request, outside the steady stream (readiness probes). */
  async once(extra: Record<string, string> = {}): Promise<Outcome> {
    const started = performance.now();
    try {
      const res = await this.pool.request({
        path: '/reviews/0',
        method: 'GET',
        headers: { host: this.opts.host, ...extra },
        headersTimeout: 10_000,
        bodyTimeout: 10_000,
      });
      const body = await res.body.text();
      const headers = Object.fromEntries(Object.entries(res.headers).map(([k, v]) => [k, String(v)]));
      let version: string | undefined;
      try {
        version = (JSON.parse(body) as { version?: string }).version;
      } catch {
        version = undefined;
      }
      return {
        status: res.statusCode,
        ...(version ? { version } : {}),
        body,
        ms: performance.now() - started,
        headers,
      };
    } catch (err) {
      return {
        status: 0,
        body: '',
        ms: performance.now() - started,
        error: (err as Error).message,
        headers: {},
      };
    }
  }

  start(): void {
    const interval = 1000 / this.opts.rps;
    let next = performance.now();
    const tick = () => {
      const now = performance.now();
      while (next <= now) {
        next += interval;
        const i = this.seq++;
        const extra = this.headersFor(i);
        this.inFlight++;
        void this.once(extra).then((o) => {
          this.inFlight--;
          this.recorder(o, extra);
          if (this.inFlight === 0) for (const f of this.idle.splice(0)) f();
        });
      }
      this.timer = setTimeout(tick, Math.max(1, next - performance.now()));
    };
    tick();
  }

  /** Stops sending and resolves when every request in flight has finished. */
  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.inFlight > 0) await new Promise<void>((r) => this.idle.push(r));
  }

  /** Resolves when nothing is in flight (traffic may go on afterwards). */
  async drained(): Promise<void> {
    if (this.inFlight > 0) await new Promise<void>((r) => this.idle.push(r));
  }

  async close(): Promise<void> {
    await this.stop();
    await this.pool.close();
  }
}

export function recordInto(
  stats: () => StepStats,
  expectFault: () => boolean,
  expectedVersion: (h: Record<string, string>) => string | undefined,
): Recorder {
  return (o, h) => {
    const s = stats();
    if (o.status === 200 && o.version) {
      const want = expectedVersion(h);
      if (want && want !== o.version)
        s.failed(o.ms, false, `request ${JSON.stringify(h)} reached ${o.version}, expected ${want}`);
      else s.ok(o.version, o.ms);
    } else if (expectFault() && o.status === 503 && /fault filter abort/.test(o.body)) {
      s.failed(o.ms, true, 'injected fault');
    } else {
      s.failed(o.ms, false, o.error ?? `HTTP ${o.status}: ${o.body.slice(0, 120)}`);
    }
  };
}
