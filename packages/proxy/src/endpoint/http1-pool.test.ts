import http from 'node:http';
import net from 'node:net';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { Http1Pool, type Http1Exchange } from './http1-pool.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => {
    (server as http.Server).closeAllConnections?.();
    return new Promise<void>((r) => server.close(() => r()));
  });
  return (server.address() as net.AddressInfo).port;
}

/** A node:http upstream counting its connections. */
async function upstream(handler: http.RequestListener): Promise<{ port: number; connections: () => number }> {
  let n = 0;
  const server = http.createServer({ keepAliveTimeout: 10_000 }, handler);
  server.on('connection', () => n++);
  return { port: await listen(server), connections: () => n };
}

/** A raw TCP upstream that answers each connection's first request with fixed bytes. */
async function rawUpstream(reply: string | ((req: string) => string)): Promise<number> {
  const server = net.createServer((s) => {
    let got = '';
    s.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      if (got.includes('\r\n\r\n')) s.write(typeof reply === 'string' ? reply : reply(got));
    });
    s.on('error', () => {});
  });
  return listen(server);
}

function pool(port: number, extra: Partial<ConstructorParameters<typeof Http1Pool>[2]> = {}): Http1Pool {
  const p = new Http1Pool('127.0.0.1', port, {
    connectTimeoutMs: 1000,
    maxConnections: 4,
    idleTimeoutMs: 5000,
    ...extra,
  });
  cleanups.push(() => p.destroy());
  return p;
}

const get = (path = '/', extra: Partial<Http1Exchange> = {}): Http1Exchange => ({
  method: 'GET',
  path,
  authority: 'up',
  headers: {},
  body: undefined,
  signal: new AbortController().signal,
  ...extra,
});

async function text(body: Readable): Promise<string> {
  let s = '';
  for await (const c of body) s += (c as Buffer).toString();
  return s;
}

describe('upstream HTTP/1.1 pool', () => {
  it('reuses one keep-alive connection for sequential requests and sends host and headers', async () => {
    const up = await upstream((req, res) =>
      res.end(`${req.method} ${req.url} ${req.headers.host} ${String(req.headers['x-a'])}`),
    );
    const p = pool(up.port);
    for (const path of ['/a', '/b', '/c']) {
      const r = await p.request(get(path, { headers: { 'x-a': ['1', '2'] } }));
      expect(r.status).toBe(200);
      expect(await text(r.body)).toBe(`GET ${path} up 1, 2`);
    }
    expect(up.connections()).toBe(1);
  });

  it('sends buffered and streamed bodies (Content-Length or chunked)', async () => {
    const up = await upstream((req, res) => {
      let n = 0;
      req.on('data', (c: Buffer) => (n += c.length));
      req.on('end', () =>
        res.end(`${n} ${req.headers['content-length'] ?? req.headers['transfer-encoding']}`),
      );
    });
    const p = pool(up.port);
    const buffered = await p.request(get('/', { method: 'POST', body: Buffer.from('hello') }));
    expect(await text(buffered.body)).toBe('5 5');
    const streamed = await p.request(
      get('/', { method: 'POST', body: Readable.from([Buffer.alloc(70_000), Buffer.alloc(30_000)]) }),
    );
    expect(await text(streamed.body)).toBe('100000 chunked');
    const sized = await p.request(
      get('/', {
        method: 'PUT',
        headers: { 'content-length': '6' },
        body: Readable.from([Buffer.from('abc'), Buffer.from('def')]),
      }),
    );
    expect(await text(sized.body)).toBe('6 6');
    const empty = await p.request(get('/', { method: 'POST' }));
    expect(await text(empty.body)).toBe('0 0');
    expect(up.connections()).toBe(1);
  });

  it('reads chunked responses with trailers, skipping 100 Continue', async () => {
    const port = await rawUpstream(
      'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\ngrpc-status: 0\r\n\r\n',
    );
    const r = await pool(port).request(get());
    expect(await text(r.body)).toBe('abc');
    expect(await r.trailers).toEqual({ 'grpc-status': '0' });
  });

  it('does not wait for a body after HEAD, 204 or 304', async () => {
    const up = await upstream((req, res) => {
      if (req.url === '/204') res.writeHead(204).end();
      else if (req.url === '/304') res.writeHead(304, { 'content-length': '10' }).end();
      else
        res.writeHead(200, { 'content-length': '10' }).end(req.method === 'HEAD' ? undefined : '0123456789');
    });
    const p = pool(up.port, { maxConnections: 1 });
    for (const [method, path] of [
      ['HEAD', '/'],
      ['GET', '/204'],
      ['GET', '/304'],
      ['GET', '/'],
    ] as const) {
      const r = await p.request(get(path, { method }));
      expect(await text(r.body)).toBe(method === 'GET' && path === '/' ? '0123456789' : '');
    }
    expect(up.connections()).toBe(1);
  });

  it('opens a new connection after the upstream says Connection: close', async () => {
    const up = await upstream((_req, res) => {
      res.setHeader('connection', 'close');
      res.end('x');
    });
    const p = pool(up.port);
    for (let i = 0; i < 3; i++) expect(await text((await p.request(get())).body)).toBe('x');
    expect(up.connections()).toBe(3);
  });

  it('reads a close-delimited response to its end', async () => {
    const server = net.createServer((s) => s.once('data', () => s.end('HTTP/1.1 200 OK\r\n\r\nuntil close')));
    const port = await listen(server);
    expect(await text((await pool(port).request(get())).body)).toBe('until close');
  });

  it('streams a large response to a slow reader with backpressure', async () => {
    const size = 8 * 1024 * 1024;
    const up = await upstream((_req, res) => res.end(Buffer.alloc(size, 1)));
    const r = await pool(up.port).request(get());
    let n = 0;
    await new Promise<void>((resolve) => {
      r.body.on('data', (c: Buffer) => {
        n += c.length;
        r.body.pause();
        setImmediate(() => r.body.resume());
      });
      r.body.on('end', resolve);
    });
    expect(n).toBe(size);
  });

  it('queues requests beyond max connections', async () => {
    const up = await upstream((_req, res) => setTimeout(() => res.end('ok'), 5));
    const p = pool(up.port, { maxConnections: 2 });
    const all = await Promise.all(
      Array.from({ length: 6 }, () => p.request(get()).then((r) => text(r.body))),
    );
    expect(all).toEqual(Array(6).fill('ok'));
    expect(up.connections()).toBe(2);
  });

  it('fails with the socket error code on connect failure and with the reason on abort', async () => {
    const closed = net.createServer();
    const port = await listen(closed);
    await new Promise((r) => closed.close(r));
    await expect(pool(port).request(get())).rejects.toMatchObject({ code: 'ECONNREFUSED' });

    const up = await upstream((_req, res) => {
      res.writeHead(200);
      res.write('start');
    });
    const ac = new AbortController();
    const r = await pool(up.port).request(get('/', { signal: ac.signal }));
    const err = new Promise((resolve) => r.body.once('error', resolve));
    r.body.once('data', () => ac.abort(new Error('route timeout')));
    expect(await err).toMatchObject({ message: 'route timeout' });
  });

  it('hands over a response that arrived whole with its head as a buffer, a split one as a stream', async () => {
    const whole = await rawUpstream('HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello');
    const r = await pool(whole).request(get());
    expect(r.complete?.toString()).toBe('hello');
    expect(await r.trailers).toEqual({});
    expect(await text(r.body)).toBe('hello'); // the stream is still there for a reader that wants it
    // The body's end is sent only once the response has been handed over, so it comes in a later read.
    let rest: net.Socket | undefined;
    const server = net.createServer((s) =>
      s.once('data', () => {
        rest = s;
        s.write('HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhe');
      }),
    );
    const split = await pool(await listen(server)).request(get());
    rest?.write('llo');
    expect(split.complete).toBeUndefined();
    expect(await text(split.body)).toBe('hello');
    const chunked = await rawUpstream(
      'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n',
    );
    const c = await pool(chunked).request(get());
    expect(c.complete).toBeUndefined();
    expect(await text(c.body)).toBe('ok');
  });

  it('closes an idle connection after idle_timeout but never one with an exchange in progress', async () => {
    const up = await upstream((req, res) => {
      if (req.url === '/slow') setTimeout(() => res.end('slow'), 150);
      else res.end('fast');
    });
    const p = pool(up.port, { idleTimeoutMs: 50, maxConnections: 1 });
    // The response takes three idle timeouts: the connection survives it and is reused.
    expect(await text((await p.request(get('/slow'))).body)).toBe('slow');
    expect(await text((await p.request(get('/fast'))).body)).toBe('fast');
    expect(up.connections()).toBe(1);
    // Left idle, it is closed, and the next request opens another.
    await new Promise((r) => setTimeout(r, 200));
    expect(await text((await p.request(get('/fast'))).body)).toBe('fast');
    expect(up.connections()).toBe(2);
  });

  it('treats a malformed response as a reset', async () => {
    const port = await rawUpstream('HTTP/1.1 200 OK\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\nxx');
    await expect(pool(port).request(get())).rejects.toThrow(/content-length/);
  });
});
