// Envoy's timeouts that depend on where a request or connection is in its life, on real loopback
// sockets: the route timeout counted from the end of the downstream request, request_headers_timeout
// on every request of a kept-alive connection, the HCM's max_connection_duration (idle and busy
// connections), and the cluster's upstream max_stream_duration (408/504 `UMSDR`, reset mid-body)
// and max_connection_duration.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import net from 'node:net';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { startProxy, type RunningProxy } from '../src/index.js';
import { ADMIN, get, httpListener, staticCluster } from './helpers/upstreams.js';
import { until } from './helpers/until.js';

let upstream: http.Server;
let proxy: RunningProxy;
let dir: string;
let logPath: string;
const held: http.ServerResponse[] = [];
/** Upstream connections by the proxy's source port: when each opened and closed. */
const upstreamConns = new Map<number, { opened: number; closed?: number }>();

const port = (listener: string): number => proxy.listenerAddress(listener)?.port ?? 0;

async function accessLogHas(line: string): Promise<void> {
  await until(
    `the access log line ${line}`,
    () => existsSync(logPath) && readFileSync(logPath, 'utf8').split('\n').includes(line),
    { everyMs: 10 },
  );
}

const ACCESS_LOG = {
  name: 'envoy.access_loggers.file',
  typed_config: {
    '@type': 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog',
    path: '',
    log_format: { text_format: '%REQ(:PATH)% %RESPONSE_CODE% %RESPONSE_FLAGS%\n' },
  },
};

function routeTo(cluster: string, timeout = '0s'): Record<string, unknown> {
  return {
    name: cluster,
    virtual_hosts: [
      { name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster, timeout } }] },
    ],
  };
}

function httpOptions(common: Record<string, string>): Record<string, unknown> {
  return {
    typed_extension_protocol_options: {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
        '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
        common_http_protocol_options: common,
        explicit_http_config: { http_protocol_options: {} },
      },
    },
  };
}

/**
 * Sends a POST whose chunked body arrives in `chunks` pieces `gapMs` apart; resolves with the
 * status, body and whether the response was cut off.
 */
function slowUpload(
  p: number,
  path: string,
  chunks: number,
  gapMs: number,
): Promise<{ status: number; body: string; aborted: boolean }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: p,
        path,
        method: 'POST',
        agent: false,
        headers: { 'transfer-encoding': 'chunked' },
      },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, aborted: false }));
        res.on('aborted', () => resolve({ status: res.statusCode ?? 0, body, aborted: true }));
      },
    );
    req.on('error', reject);
    let n = 0;
    const t = setInterval(() => {
      if (req.destroyed) return clearInterval(t);
      req.write(`part${n} `);
      if (++n === chunks) {
        clearInterval(t);
        req.end();
      }
    }, gapMs);
  });
}

/** A raw keep-alive connection: write bytes, read until `done(text)` or close. */
function rawConnection(p: number): {
  sock: net.Socket;
  text: () => string;
  closed: Promise<number>;
  waitFor: (pred: (t: string) => boolean) => Promise<void>;
} {
  const sock = net.connect(p, '127.0.0.1');
  let got = '';
  sock.on('data', (d: Buffer) => (got += d.toString()));
  sock.on('error', () => undefined);
  const closed = new Promise<number>((r) => sock.once('close', () => r(Date.now())));
  return {
    sock,
    text: () => got,
    closed,
    waitFor: (pred) =>
      until('the expected bytes or a close', () => pred(got) || sock.destroyed, { everyMs: 10 }),
  };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'skein-timeouts-lifecycle-'));
  logPath = join(dir, 'access.log');
  ACCESS_LOG.typed_config.path = logPath;
  // Reads the whole request, then: /hold never answers; /slow-body sends the head and a first
  // chunk, then nothing; /late answers 500 ms after the request ended; else at once with what it read.
  upstream = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      res.setHeader('x-proxy-port', String(req.socket.remotePort));
      if (req.url?.startsWith('/hold')) return void held.push(res);
      if (req.url?.startsWith('/slow-body')) {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('first part ');
        return void held.push(res);
      }
      if (req.url?.startsWith('/late')) return void setTimeout(() => res.end('late'), 500);
      res.end(`got ${body.length}`);
    });
  });
  // Only the proxy closes upstream connections here (Node's server would after 5 s idle).
  upstream.keepAliveTimeout = 60_000;
  upstream.on('connection', (s: net.Socket) => {
    const entry: { opened: number; closed?: number } = { opened: Date.now() };
    upstreamConns.set(s.remotePort ?? 0, entry);
    s.once('close', () => (entry.closed = Date.now()));
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const upPort = (upstream.address() as AddressInfo).port;
  proxy = await startProxy(
    {
      admin: ADMIN,
      static_resources: {
        listeners: [
          httpListener('route-timeout', routeTo('up', '0.3s'), { access_log: [ACCESS_LOG] }),
          httpListener('headers', routeTo('up'), { request_headers_timeout: '0.2s' }),
          httpListener('conn-duration', routeTo('up'), {
            common_http_protocol_options: { max_connection_duration: '0.3s' },
            drain_timeout: '2s',
          }),
          httpListener('up-stream-duration', routeTo('up-msd'), { access_log: [ACCESS_LOG] }),
          httpListener('up-conn-duration', routeTo('up-mcd')),
        ],
        clusters: [
          staticCluster('up', [upPort]),
          staticCluster('up-msd', [upPort], httpOptions({ max_stream_duration: '0.3s' })),
          staticCluster('up-mcd', [upPort], httpOptions({ max_connection_duration: '0.3s' })),
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
  it('starts when the downstream request is complete, not when routing starts', async () => {
    // The upload takes ~0.6 s, twice the route timeout; the upstream answers as soon as it ends.
    const r = await slowUpload(port('route-timeout'), '/upload', 6, 100);
    expect(r).toEqual({ status: 200, body: 'got 36', aborted: false });
  });

  it('still bounds the wait for the response after the request is complete (504 UT)', async () => {
    const r = await slowUpload(port('route-timeout'), '/late', 3, 100);
    expect(r.status).toBe(504);
    await accessLogHas('/late 504 UT');
  });
});

describe('request_headers_timeout', () => {
  it('applies to a later request on a kept-alive connection, from its first byte', async () => {
    const c = rawConnection(port('headers'));
    c.sock.write('GET /one HTTP/1.1\r\nhost: x\r\n\r\n');
    await c.waitFor((t) => t.includes('got 0'));
    // Idle longer than the timeout with no byte of a next request: the connection stays.
    await new Promise((r) => setTimeout(r, 400));
    expect(c.sock.destroyed).toBe(false);
    c.sock.write('GET /two HTTP/1.1\r\nhost: x\r\n\r\n');
    await c.waitFor((t) => t.split('got 0').length === 3);
    const before = proxy.stats.value('http.headers.downstream_rq_header_timeout');
    // The third request's head never finishes.
    c.sock.write('GET /three HTTP/1.1\r\nhost: x\r\n');
    const closedAt = await c.closed;
    expect(c.text()).toContain('HTTP/1.1 408 Request Timeout');
    expect(c.text()).toContain('request header timeout');
    expect(closedAt).toBeGreaterThan(0);
    expect(proxy.stats.value('http.headers.downstream_rq_header_timeout')).toBe(before + 1);
  });
});

describe("the HCM's max_connection_duration", () => {
  it('closes an idle connection when the duration is reached', async () => {
    const opened = Date.now();
    const c = rawConnection(port('conn-duration'));
    c.sock.write('GET /a HTTP/1.1\r\nhost: x\r\n\r\n');
    await c.waitFor((t) => t.includes('got 0'));
    const closedAt = await c.closed;
    expect(closedAt - opened).toBeGreaterThanOrEqual(250);
    expect(proxy.stats.value('http.conn-duration.downstream_cx_max_duration_reached')).toBeGreaterThanOrEqual(
      1,
    );
  });

  it('lets a busy connection finish its response with connection: close, then closes it', async () => {
    const c = rawConnection(port('conn-duration'));
    c.sock.write('GET /late HTTP/1.1\r\nhost: x\r\n\r\n');
    await c.closed;
    expect(c.text()).toMatch(/^HTTP\/1\.1 200/);
    expect(c.text().toLowerCase()).toContain('connection: close');
    expect(c.text()).toMatch(/late$/);
  });
});

describe("the cluster's max_stream_duration", () => {
  it('answers 504 UMSDR when the upstream does not answer in time', async () => {
    const r = await get(port('up-stream-duration'), '/hold');
    expect(r.status).toBe(504);
    expect(r.text).toBe('upstream max stream duration reached');
    await accessLogHas('/hold 504 UMSDR');
    expect(proxy.stats.value('cluster.up-msd.upstream_rq_max_duration_reached')).toBeGreaterThanOrEqual(1);
  });

  it('answers 408 while the request is still arriving', async () => {
    // The body takes ~0.6 s; the upstream answers only after it, past the 0.3 s limit.
    const r = await slowUpload(port('up-stream-duration'), '/upload-408', 6, 100);
    expect(r.status).toBe(408);
    await accessLogHas('/upload-408 408 UMSDR');
  });

  it('resets the stream when reached while the response body streams', async () => {
    const r = await slowUpload(port('up-stream-duration'), '/slow-body', 1, 1);
    expect(r).toMatchObject({ status: 200, aborted: true, body: 'first part ' });
    await accessLogHas('/slow-body 200 UMSDR');
  });
});

describe("the cluster's max_connection_duration", () => {
  it('closes a pooled connection once the duration is reached, after its exchange', async () => {
    const first = await get(port('up-conn-duration'), '/a');
    const p = Number(first.headers['x-proxy-port']);
    const conn = upstreamConns.get(p);
    expect(conn).toBeDefined();
    await until('the connection to close', () => conn?.closed !== undefined, { everyMs: 10 });
    expect((conn?.closed ?? 0) - (conn?.opened ?? 0)).toBeGreaterThanOrEqual(250);
    expect(proxy.stats.value('cluster.up-mcd.upstream_cx_max_duration_reached')).toBeGreaterThanOrEqual(1);
    // A busy connection finishes its exchange (no reset), then closes.
    const late = await get(port('up-conn-duration'), '/late');
    expect(late.status).toBe(200);
    expect(late.text).toBe('late');
    const lateConn = upstreamConns.get(Number(late.headers['x-proxy-port']));
    await until('the late connection to close', () => lateConn?.closed !== undefined, { everyMs: 10 });
    const second = await get(port('up-conn-duration'), '/b');
    expect(second.status).toBe(200);
  });
});
