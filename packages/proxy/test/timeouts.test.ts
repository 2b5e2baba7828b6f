// Envoy's HTTP timeouts on real loopback sockets: the route timeout over a slow body, stream idle
// timeout (HCM and route), request timeout, request headers timeout, max stream duration (HCM,
// route and gRPC header), the upstream pool's idle timeout, and their response flags.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import net from 'node:net';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { startProxy, type RunningProxy } from '../src/index.js';
import { ADMIN, get, httpListener, staticCluster } from './helpers/upstreams.js';
import { until } from './helpers/until.js';

let upstream: http.Server;
let upPort: number;
/** When each upstream connection (by the proxy's source port) closed: the pool idle timeout test. */
const upstreamClosed = new Map<number, number>();
let proxy: RunningProxy;
let dir: string;
let logPath: string;
const held: http.ServerResponse[] = [];

function port(listener: string): number {
  return proxy.listenerAddress(listener)?.port ?? 0;
}

/** A request through the proxy; resolves with the status, what body arrived, and whether it was cut off. */
function fetchRaw(
  p: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string; aborted: boolean }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: p, path, headers, agent: false }, (res) => {
      let body = '';
      let done = false;
      const finish = (aborted: boolean): void => {
        if (done) return;
        done = true;
        resolve({ status: res.statusCode ?? 0, body, aborted });
      };
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => finish(false));
      res.on('error', () => finish(true));
      res.on('aborted', () => finish(true));
      res.on('close', () => finish(!res.complete));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Waits until the access log has this line. */
async function accessLogLine(line: string): Promise<string> {
  const lines = (): string[] => (existsSync(logPath) ? readFileSync(logPath, 'utf8').split('\n') : []);
  await until(`the access log line ${line}`, () => lines().includes(line), { everyMs: 10 });
  return line;
}

const ACCESS_LOG = {
  name: 'envoy.access_loggers.file',
  typed_config: {
    '@type': 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog',
    path: '',
    log_format: { text_format: '%REQ(:PATH)% %RESPONSE_CODE% %RESPONSE_FLAGS%\n' },
  },
};

function routes(extra: Record<string, unknown>[] = []): Record<string, unknown> {
  return {
    name: 'r',
    virtual_hosts: [
      {
        name: 'all',
        domains: ['*'],
        routes: [...extra, { match: { prefix: '/' }, route: { cluster: 'up', timeout: '0s' } }],
      },
    ],
  };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'skein-timeouts-'));
  logPath = join(dir, 'access.log');
  ACCESS_LOG.typed_config.path = logPath;
  // /hold: never answers; /slow-body: head and a first chunk, then nothing; /trickle: a chunk
  // every 100 ms for 700 ms; /fast: answers at once.
  upstream = http.createServer((req, res) => {
    req.resume();
    if (req.url?.startsWith('/hold')) return void held.push(res);
    if (req.url?.startsWith('/slow-body')) {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first part ');
      held.push(res);
      return;
    }
    if (req.url?.startsWith('/trickle')) {
      res.writeHead(200, { 'content-type': 'text/plain' });
      let n = 0;
      const t = setInterval(() => {
        res.write(`chunk${n} `);
        if (++n === 7) {
          clearInterval(t);
          res.end('done');
        }
      }, 100);
      return;
    }
    res.setHeader('x-proxy-port', String(req.socket.remotePort));
    res.end('fast');
  });
  upstream.on('connection', (s: net.Socket) => {
    const p = s.remotePort ?? 0;
    s.once('close', () => upstreamClosed.set(p, Date.now()));
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  upPort = (upstream.address() as AddressInfo).port;
  proxy = await startProxy(
    {
      admin: ADMIN,
      static_resources: {
        listeners: [
          httpListener(
            'route-timeout',
            routes([{ match: { prefix: '/' }, route: { cluster: 'up', timeout: '0.3s' } }]),
            { access_log: [ACCESS_LOG] },
          ),
          httpListener('idle', routes(), { stream_idle_timeout: '0.3s', access_log: [ACCESS_LOG] }),
          httpListener(
            'route-idle',
            routes([
              { match: { prefix: '/' }, route: { cluster: 'up', timeout: '0s', idle_timeout: '0.2s' } },
            ]),
            { stream_idle_timeout: '0s' },
          ),
          httpListener('request', routes(), { request_timeout: '0.3s' }),
          httpListener('headers', routes(), { request_headers_timeout: '0.2s' }),
          httpListener('duration', routes(), {
            common_http_protocol_options: { max_stream_duration: '0.3s' },
            access_log: [ACCESS_LOG],
          }),
          httpListener(
            'grpc-duration',
            routes([
              {
                match: { prefix: '/' },
                route: {
                  cluster: 'up',
                  timeout: '0s',
                  max_stream_duration: { max_stream_duration: '10s', grpc_timeout_header_max: '0s' },
                },
              },
            ]),
          ),
          httpListener('pool-idle', {
            name: 'p',
            virtual_hosts: [
              {
                name: 'all',
                domains: ['*'],
                routes: [{ match: { prefix: '/' }, route: { cluster: 'short-idle' } }],
              },
            ],
          }),
        ],
        clusters: [
          staticCluster('up', [upPort]),
          staticCluster('short-idle', [upPort], {
            typed_extension_protocol_options: {
              'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
                '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
                common_http_protocol_options: { idle_timeout: '0.2s' },
                explicit_http_config: { http_protocol_options: {} },
              },
            },
          }),
        ],
      },
    },
    { logLevel: 'off' },
  );
});

afterAll(async () => {
  for (const r of held.splice(0)) r.destroy();
  await proxy?.stop();
  upstream.closeAllConnections();
  await new Promise<void>((r) => upstream.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

describe('route timeout', () => {
  it('covers the whole response: a body that stalls after the headers is reset, flagged UT', async () => {
    const t0 = Date.now();
    const r = await fetchRaw(port('route-timeout'), '/slow-body');
    expect(r.status).toBe(200);
    expect(r.body).toBe('first part ');
    expect(r.aborted).toBe(true);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
    await until(
      'an upstream request timeout',
      () => proxy.stats.value('cluster.up.upstream_rq_timeout') >= 1,
      { everyMs: 10 },
    );
    expect(await accessLogLine('/slow-body 200 UT')).toBeTruthy();
  });

  it('answers 504 UT before the headers', async () => {
    const r = await fetchRaw(port('route-timeout'), '/hold');
    expect(r.status).toBe(504);
    expect(r.body).toBe('upstream request timeout');
  });
});

describe('stream idle timeout', () => {
  it('answers 504 "stream timeout" (SI) when nothing moves before the response', async () => {
    const t0 = Date.now();
    const r = await fetchRaw(port('idle'), '/hold');
    expect(r.status).toBe(504);
    expect(r.body).toBe('stream timeout');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
    expect(proxy.stats.value('http.idle.downstream_rq_idle_timeout')).toBe(1);
    expect(proxy.stats.value('http.idle.response_flag.SI')).toBe(1);
    expect(await accessLogLine('/hold 504 SI')).toBeTruthy();
  });

  it('resets a stream whose body stalls after the headers', async () => {
    const r = await fetchRaw(port('idle'), '/slow-body');
    expect(r.status).toBe(200);
    expect(r.aborted).toBe(true);
    await until('two SI responses', () => proxy.stats.value('http.idle.response_flag.SI') === 2, {
      everyMs: 10,
    });
  });

  it('is not fired while body bytes keep moving, even past the timeout in total', async () => {
    const t0 = Date.now();
    const r = await fetchRaw(port('idle'), '/trickle');
    expect(r.aborted).toBe(false);
    expect(r.body).toContain('done');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(600);
  });

  it("a route's idle_timeout overrides the HCM's (disabled there)", async () => {
    const r = await fetchRaw(port('route-idle'), '/hold');
    expect(r.status).toBe(504);
    expect(r.body).toBe('stream timeout');
  });
});

describe('request timeouts', () => {
  it('request_timeout: 408 when the body does not arrive in time', async () => {
    const sock = net.connect(port('request'), '127.0.0.1');
    sock.write('POST /hold HTTP/1.1\r\nhost: x\r\ncontent-length: 10\r\n\r\nhalf ');
    const text = await new Promise<string>((resolve) => {
      let got = '';
      sock.on('data', (d: Buffer) => (got += d.toString()));
      sock.on('error', () => resolve(got));
      sock.on('close', () => resolve(got));
      sock.on('data', () => {
        if (got.endsWith('request timeout')) resolve(got);
      });
    });
    sock.destroy();
    expect(text).toMatch(/^HTTP\/1\.1 408/);
    expect(text).toContain('request timeout');
    expect(proxy.stats.value('http.request.downstream_rq_timeout')).toBe(1);
  });

  it('request_timeout does not fire for a request that was complete in time', async () => {
    const r = await fetchRaw(port('request'), '/fast');
    expect(r.status).toBe(200);
  });

  it('request_headers_timeout: 408 and close when the headers never finish', async () => {
    const sock = net.connect(port('headers'), '127.0.0.1');
    sock.write('GET / HTTP/1.1\r\nhost: x\r\n');
    const text = await new Promise<string>((resolve) => {
      let got = '';
      sock.on('data', (d: Buffer) => (got += d.toString()));
      sock.on('close', () => resolve(got));
    });
    expect(text).toMatch(/^HTTP\/1\.1 408/);
    expect(text).toContain('request header timeout');
    expect(proxy.stats.value('http.headers.downstream_rq_header_timeout')).toBe(1);
  });

  it('request_headers_timeout lets a prompt request through', async () => {
    expect((await get(port('headers'), '/fast')).status).toBe(200);
  });

  it('rejects a malformed request with 400 counted as DPE', async () => {
    const sock = net.connect(port('headers'), '127.0.0.1');
    sock.write('NOT HTTP AT ALL\r\n\r\n');
    const text = await new Promise<string>((resolve) => {
      let got = '';
      sock.on('data', (d: Buffer) => (got += d.toString()));
      sock.on('close', () => resolve(got));
    });
    expect(text).toMatch(/^HTTP\/1\.1 400/);
    expect(proxy.stats.value('http.headers.response_flag.DPE')).toBe(1);
  });
});

describe('max stream duration', () => {
  it('HCM common_http_protocol_options.max_stream_duration ends a held stream (DT)', async () => {
    const t0 = Date.now();
    const r = await fetchRaw(port('duration'), '/hold');
    expect(r.status).toBe(504);
    expect(r.body).toBe('downstream duration timeout');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
    expect(proxy.stats.value('http.duration.downstream_rq_max_duration_reached')).toBe(1);
    expect(await accessLogLine('/hold 504 DT')).toBeTruthy();
  });

  it('resets a stream that is still sending when the duration is reached', async () => {
    const r = await fetchRaw(port('duration'), '/trickle');
    expect(r.status).toBe(200);
    expect(r.aborted).toBe(true);
  });

  it("route max_stream_duration with grpc_timeout_header_max follows the request's grpc-timeout", async () => {
    const t0 = Date.now();
    const r = await fetchRaw(port('grpc-duration'), '/hold', { 'grpc-timeout': '200m' });
    expect(r.status).toBe(504);
    expect(r.body).toBe('downstream duration timeout');
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(190);
    expect(took).toBeLessThan(5000);
  });
});

describe('upstream connection pool', () => {
  it('closes pooled upstream connections after common_http_protocol_options.idle_timeout', async () => {
    const r = await get(port('pool-idle'), '/fast');
    expect(r.status).toBe(200);
    const answered = Date.now();
    const used = Number(r.headers['x-proxy-port']);
    await until('the pooled connection to close', () => upstreamClosed.has(used), { everyMs: 10 });
    // Node's upstream keeps an idle connection 5 s; the proxy's 0.2 s idle timeout closes it first.
    expect((upstreamClosed.get(used) ?? 0) - answered).toBeLessThan(3000);
  });
});
