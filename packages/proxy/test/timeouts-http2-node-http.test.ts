// Connection timers on the paths that are not the raw HTTP/1.1 codec, on real loopback sockets:
// downstream HTTP/2 (h2c) — the HCM's idle_timeout and max_connection_duration (GOAWAY, streams in
// flight finish); upstream HTTP/2 sessions — the cluster's idle_timeout and max_connection_duration;
// connections served by node:http (HTTP/1.0 keep-alive here) — request_headers_timeout on every
// request and max_connection_duration.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http2 from 'node:http2';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { startProxy, type RunningProxy } from '../src/index.js';
import { ADMIN, httpListener, staticCluster } from './helpers/upstreams.js';
import { until } from './helpers/until.js';

let upstream: http2.Http2Server;
let proxy: RunningProxy;
/** Upstream sessions (one per proxy connection): how many opened, how many closed. */
const sessions = { opened: 0, closed: 0 };
const held: http2.Http2ServerResponse[] = [];

const port = (listener: string): number => proxy.listenerAddress(listener)?.port ?? 0;
const stat = (name: string): number => proxy.stats.value(name) ?? 0;

function h2Options(common: Record<string, string>): Record<string, unknown> {
  return {
    typed_extension_protocol_options: {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
        '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
        common_http_protocol_options: common,
        explicit_http_config: { http2_protocol_options: {} },
      },
    },
  };
}

function routeTo(cluster: string): Record<string, unknown> {
  return {
    name: cluster,
    virtual_hosts: [
      {
        name: 'all',
        domains: ['*'],
        routes: [{ match: { prefix: '/' }, route: { cluster, timeout: '0s' } }],
      },
    ],
  };
}

/** An h2c client session to a listener, recording GOAWAY and close. */
function h2Client(p: number): {
  session: http2.ClientHttp2Session;
  goaway: Promise<void>;
  closed: Promise<void>;
  get: (path: string) => Promise<{ status: number; body: string }>;
} {
  const session = http2.connect(`http://127.0.0.1:${p}`);
  session.on('error', () => undefined);
  const goaway = new Promise<void>((r) => session.once('goaway', () => r()));
  const closed = new Promise<void>((r) => session.once('close', () => r()));
  const get = (path: string): Promise<{ status: number; body: string }> =>
    new Promise((resolve, reject) => {
      const s = session.request({ ':path': path, ':authority': 'svc' });
      let status = 0;
      let body = '';
      s.on('response', (h) => (status = Number(h[':status'])));
      s.on('data', (c: Buffer) => (body += c.toString()));
      s.on('end', () => resolve({ status, body }));
      s.on('error', reject);
      s.end();
    });
  return { session, goaway, closed, get };
}

/** A raw connection: write bytes, collect what comes back. */
function raw(p: number): { sock: net.Socket; text: () => string; closed: Promise<void> } {
  const sock = net.connect(p, '127.0.0.1');
  let got = '';
  sock.on('data', (d: Buffer) => (got += d.toString()));
  sock.on('error', () => undefined);
  const closed = new Promise<void>((r) => sock.once('close', () => r()));
  return { sock, text: () => got, closed };
}

const HTTP10 = 'GET /ok HTTP/1.0\r\nhost: svc\r\nconnection: keep-alive\r\n\r\n';

beforeAll(async () => {
  // An h2c upstream: /hold answers only when the test releases it, anything else at once.
  upstream = http2.createServer((req, res) => {
    if (req.url.startsWith('/hold')) return void held.push(res);
    // With a length, so that node:http keeps an HTTP/1.0 connection alive.
    res.setHeader('content-length', '2');
    res.end('ok');
  });
  upstream.on('session', (s: http2.ServerHttp2Session) => {
    sessions.opened++;
    s.once('close', () => sessions.closed++);
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
  const up = (upstream.address() as AddressInfo).port;
  proxy = await startProxy(
    {
      node: { id: 'timeouts-h2', cluster: 'test' },
      admin: ADMIN,
      static_resources: {
        listeners: [
          httpListener('h2-idle', routeTo('plain'), {
            common_http_protocol_options: { idle_timeout: '0.3s' },
          }),
          httpListener('h2-max', routeTo('plain'), {
            common_http_protocol_options: { max_connection_duration: '0.3s' },
            drain_timeout: '5s',
          }),
          httpListener('to-idle', routeTo('up-idle')),
          httpListener('to-max', routeTo('up-max')),
          httpListener('h1-headers', routeTo('plain'), { request_headers_timeout: '0.3s' }),
          httpListener('h1-max', routeTo('plain'), {
            common_http_protocol_options: { max_connection_duration: '0.3s' },
          }),
        ],
        clusters: [
          staticCluster('plain', [up], h2Options({})),
          staticCluster('up-idle', [up], h2Options({ idle_timeout: '0.3s' })),
          staticCluster('up-max', [up], h2Options({ max_connection_duration: '0.3s' })),
        ],
      },
    },
    { logLevel: 'off' },
  );
  await proxy.waitReady();
});

afterAll(async () => {
  for (const r of held) r.end();
  await proxy?.stop();
  await new Promise<void>((r) => upstream.close(() => r()));
});

describe('downstream HTTP/2', () => {
  it('idle_timeout: a connection with no open stream gets GOAWAY and is closed', async () => {
    const c = h2Client(port('h2-idle'));
    expect(await c.get('/ok')).toEqual({ status: 200, body: 'ok' });
    const t0 = Date.now();
    await c.goaway;
    await c.closed;
    expect(Date.now() - t0).toBeGreaterThanOrEqual(200);
    expect(stat('http.h2-idle.downstream_cx_idle_timeout')).toBe(1);
  });

  it('idle_timeout does not run while a stream is open', async () => {
    const c = h2Client(port('h2-idle'));
    const pending = held.length;
    const answer = c.get('/hold');
    await until('held.length > pending', () => held.length > pending, { everyMs: 10 });
    await new Promise((r) => setTimeout(r, 600)); // twice the idle timeout, with the stream open
    expect(c.session.closed).toBe(false);
    held[pending]?.end('late');
    expect(await answer).toEqual({ status: 200, body: 'late' });
    await c.closed; // then idle again
  });

  it('max_connection_duration: GOAWAY, the stream in flight finishes, then the connection closes', async () => {
    const c = h2Client(port('h2-max'));
    const pending = held.length;
    const answer = c.get('/hold');
    await until('held.length > pending', () => held.length > pending, { everyMs: 10 });
    await c.goaway;
    expect(stat('http.h2-max.downstream_cx_max_duration_reached')).toBe(1);
    // (A client session is closed, not destroyed, by a GOAWAY: its open streams go on.)
    expect(c.session.destroyed).toBe(false);
    held[pending]?.end('after goaway');
    expect(await answer).toEqual({ status: 200, body: 'after goaway' });
    await c.closed;
  });
});

describe('upstream HTTP/2 sessions', () => {
  it("the cluster's idle_timeout closes an upstream session with no open stream", async () => {
    const before = { ...sessions };
    expect((await get10(port('to-idle'))).status).toBe(200);
    await until('sessions.opened > before.opened', () => sessions.opened > before.opened, { everyMs: 10 });
    await until('sessions.closed > before.closed', () => sessions.closed > before.closed, { everyMs: 10 });
    // The next request opens a new session.
    expect((await get10(port('to-idle'))).status).toBe(200);
    expect(sessions.opened).toBe(before.opened + 2);
    await until('sessions.closed === before.closed + 2', () => sessions.closed === before.closed + 2, {
      everyMs: 10,
    }); // it goes idle too
  });

  it("the cluster's idle_timeout does not run while a stream is open on the session", async () => {
    const before = { ...sessions };
    const pending = held.length;
    const answer = get10(port('to-idle'), '/hold');
    await until('held.length > pending', () => held.length > pending, { everyMs: 10 });
    await new Promise((r) => setTimeout(r, 600)); // twice the idle timeout, with the stream open
    // Another request shares the session: it was not closed.
    expect((await get10(port('to-idle'))).status).toBe(200);
    expect(sessions.opened).toBe(before.opened + 1);
    held[pending]?.end('held');
    expect(await answer).toMatchObject({ status: 200, body: 'held' });
    await until('sessions.closed === before.closed + 1', () => sessions.closed === before.closed + 1, {
      everyMs: 10,
    });
  });

  it("the cluster's max_connection_duration: the stream in flight finishes, then the session closes", async () => {
    const before = { ...sessions };
    const pending = held.length;
    const answer = get10(port('to-max'), '/hold');
    await until('held.length > pending', () => held.length > pending, { everyMs: 10 });
    await until(
      "stat('cluster.up-max.upstream_cx_max_duration_reached') === 1",
      () => stat('cluster.up-max.upstream_cx_max_duration_reached') === 1,
      { everyMs: 10 },
    );
    expect(sessions.closed).toBe(before.closed);
    // A request now goes over a new session.
    expect((await get10(port('to-max'))).status).toBe(200);
    expect(sessions.opened).toBe(before.opened + 2);
    held[pending]?.end('held');
    expect(await answer).toMatchObject({ status: 200, body: 'held' });
    await until('sessions.closed > before.closed', () => sessions.closed > before.closed, { everyMs: 10 });
  });
});

describe('connections served by node:http (HTTP/1.0 keep-alive)', () => {
  it('request_headers_timeout applies to every request, not only the first', async () => {
    const c = raw(port('h1-headers'));
    c.sock.write(HTTP10);
    await until("c.text().includes('ok')", () => c.text().includes('ok'), { everyMs: 10 });
    // Idle between requests is not the headers timeout: wait past it, then start a head and stall.
    await new Promise((r) => setTimeout(r, 500));
    expect(c.sock.destroyed).toBe(false);
    c.sock.write('GET /ok HTTP/1.0\r\nhost: s');
    const t0 = Date.now();
    await c.closed;
    expect(Date.now() - t0).toBeGreaterThanOrEqual(200);
    expect(c.text()).toContain('HTTP/1.1 408');
    expect(stat('http.h1-headers.downstream_rq_header_timeout')).toBe(1);
  });

  it('max_connection_duration closes an idle kept-alive connection', async () => {
    const c = raw(port('h1-max'));
    c.sock.write(HTTP10);
    await until("c.text().includes('ok')", () => c.text().includes('ok'), { everyMs: 10 });
    expect(c.text()).toMatch(/connection: keep-alive/i);
    await c.closed;
    expect(stat('http.h1-max.downstream_cx_max_duration_reached')).toBe(1);
  });
});

/** An HTTP/1.0 request through a listener (served by node:http): status and body. */
async function get10(p: number, path = '/ok'): Promise<{ status: number; body: string }> {
  const c = raw(p);
  c.sock.write(`GET ${path} HTTP/1.0\r\nhost: svc\r\n\r\n`);
  await c.closed;
  const [head = '', body = ''] = c.text().split('\r\n\r\n');
  return { status: Number(/^HTTP\/1\.\d (\d+)/.exec(head)?.[1] ?? 0), body };
}
