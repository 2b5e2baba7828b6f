import net from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  Http1ServerConnection,
  type Http1ServerHooks,
  type RawRequest,
  type RawResponse,
} from './http1-server-connection.js';
import type { HttpParseError } from '../codec/http1-head.js';
import type { Readable } from 'node:stream';
import { interleavedPosts } from '../../test/helpers/interleaved-posts.js';

type Handler = (req: RawRequest, res: RawResponse) => void;

const servers: net.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

/** A loopback server whose connections run Http1ServerConnection with `handler`. */
async function serve(
  handler: Handler,
  extra: Partial<Http1ServerHooks> = {},
): Promise<{ port: number; errors: HttpParseError[]; fallbacks: Buffer[] }> {
  const errors: HttpParseError[] = [];
  const fallbacks: Buffer[] = [];
  const server = net.createServer((s) => {
    new Http1ServerConnection(s, {
      onRequest: handler,
      fallback: (sock, bytes) => {
        fallbacks.push(bytes);
        sock.end('HTTP/1.1 501 Not Implemented\r\ncontent-length: 0\r\n\r\n');
      },
      onProtocolError: (e) => errors.push(e),
      streamIdleMs: 0,
      idleTimeoutMs: 10_000,
      draining: () => false,
      ...extra,
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as net.AddressInfo).port, errors, fallbacks };
}

/** Writes `pieces` (awaiting each write) and collects everything until the server closes or `until` matches. */
async function exchange(
  port: number,
  pieces: (string | Buffer)[],
  until?: (text: string) => boolean,
): Promise<string> {
  const sock = net.connect(port, '127.0.0.1');
  let got = '';
  const done = new Promise<string>((resolve) => {
    sock.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      if (until?.(got)) {
        sock.destroy();
        resolve(got);
      }
    });
    sock.on('close', () => resolve(got));
  });
  for (const p of pieces) await new Promise<void>((r) => sock.write(p, () => r()));
  return done;
}

async function readAll(body: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of body) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

const count = (text: string, s: string): number => text.split(s).length - 1;

describe('downstream HTTP/1.1 connection', () => {
  it('answers pipelined requests in order, one response at a time', async () => {
    let active = 0;
    const { port } = await serve((req, res) => {
      active++;
      expect(active).toBe(1);
      // Answer later requests sooner: order must still follow the requests.
      const delay = req.url === '/1' ? 30 : 0;
      setTimeout(() => {
        active--;
        res.writeHead(200, { 'content-length': String(req.url.length) });
        res.end(req.url);
      }, delay);
    });
    const text = await exchange(
      port,
      [
        'GET /1 HTTP/1.1\r\nhost: a\r\n\r\nGET /22 HTTP/1.1\r\nhost: a\r\n\r\nGET /333 HTTP/1.1\r\nhost: a\r\n\r\n',
      ],
      (t) => t.endsWith('/333'),
    );
    expect(text.indexOf('/1')).toBeLessThan(text.indexOf('/22'));
    expect(text.indexOf('/22')).toBeLessThan(text.indexOf('/333'));
    expect(count(text, 'HTTP/1.1 200 OK')).toBe(3);
  });

  it('reads a chunked request body sent a byte at a time and answers chunked with trailers', async () => {
    const { port } = await serve((req, res) => {
      void readAll(req as unknown as Readable).then((b) => {
        res.writeHead(200, { 'x-len': String(b.length) });
        res.write(Buffer.from(b.toString().toUpperCase()));
        res.addTrailers({ 'x-trailer': 'yes' });
        res.end();
      });
    });
    const wire =
      'POST / HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\n\r\n';
    const text = await exchange(port, [...wire], (t) => t.endsWith('\r\n\r\n') && t.includes('x-trailer'));
    expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(text).toContain('x-len: 5\r\n');
    expect(text).toContain('transfer-encoding: chunked\r\n');
    expect(text).toContain('\r\n\r\n5\r\nABCDE\r\n0\r\nx-trailer: yes\r\n\r\n');
  });

  it('keeps its own copy of partial heads and body bytes while other connections read into the shared buffer', async () => {
    // Accepted sockets read into one buffer per thread: whatever a connection keeps across reads
    // must survive another connection's read overwriting it.
    const bodies: string[] = [];
    const { port } = await serve((req, res) => {
      const read = req.readableEnded ? Promise.resolve(Buffer.alloc(0)) : readAll(req as unknown as Readable);
      void read.then((b) => {
        bodies.push(`${req.url} ${b.toString()}`);
        res.writeHead(200, { 'content-length': String(b.length) });
        res.end(b);
      });
    });
    const a = net.connect(port, '127.0.0.1');
    const b = net.connect(port, '127.0.0.1');
    let gotA = '';
    a.on('data', (d: Buffer) => (gotA += d.toString('latin1')));
    await interleavedPosts(a, b, 'GET /x HTTP/1.1\r\nhost: b\r\n\r\n');
    await vi.waitFor(() => expect(gotA).toMatch(/aaaaaaaaaa$/));
    await vi.waitFor(() => expect(bodies).toHaveLength(3));
    a.destroy();
    b.destroy();
    expect(bodies.sort()).toEqual(['/aaaa aaaaaaaaaa', '/bbbb BBBBBBBBBB', '/x ']);
  });

  it('sends 100 Continue for Expect: 100-continue', async () => {
    const { port } = await serve((req, res) => {
      void readAll(req as unknown as Readable).then((b) => res.end(b));
    });
    const sock = net.connect(port, '127.0.0.1');
    let got = '';
    sock.write('PUT / HTTP/1.1\r\nhost: a\r\nexpect: 100-continue\r\ncontent-length: 4\r\n\r\n');
    await new Promise<void>((r) =>
      sock.on('data', (d: Buffer) => {
        got += d.toString();
        if (got === 'HTTP/1.1 100 Continue\r\n\r\n') sock.write('body');
        if (got.endsWith('body')) r();
      }),
    );
    sock.destroy();
    expect(got).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK\r\n/);
    expect(got).toContain('content-length: 4\r\n');
  });

  it('answers HEAD, 204 and 304 without a body', async () => {
    const { port } = await serve((req, res) => {
      const status = req.url === '/204' ? 204 : req.url === '/304' ? 304 : 200;
      res.writeHead(status, status === 200 ? {} : {});
      res.end(status === 200 ? 'should not be sent' : undefined);
    });
    const text = await exchange(port, [
      'HEAD / HTTP/1.1\r\nhost: a\r\n\r\nGET /204 HTTP/1.1\r\nhost: a\r\n\r\nGET /304 HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n',
    ]);
    expect(count(text, 'HTTP/1.1 ')).toBe(3);
    expect(text).not.toContain('should not');
    expect(text).not.toContain('transfer-encoding');
    expect(text).toContain('HTTP/1.1 304 Not Modified\r\n');
    expect(text).toContain('connection: close\r\n');
  });

  it('rejects malformed requests with 400 and closes', async () => {
    const { port, errors } = await serve(() => {
      throw new Error('no request expected');
    });
    for (const bad of [
      'GET / HTTP/1.1\r\nhost: a\r\nx: 1\r\n folded\r\n\r\n',
      'POST / HTTP/1.1\r\nhost: a\r\ncontent-length: 3\r\ntransfer-encoding: chunked\r\n\r\n',
      'POST / HTTP/1.1\r\nhost: a\r\ncontent-length: 3\r\ncontent-length: 4\r\n\r\n',
    ]) {
      const text = await exchange(port, [bad]);
      expect(text).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    }
    const bodyErr = await serve((req) => void (req as unknown as Readable).resume());
    const text = await exchange(bodyErr.port, [
      'POST / HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\nxyz\r\n',
    ]);
    expect(text).toBe('HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
    expect(errors).toHaveLength(3);
    expect(bodyErr.errors).toHaveLength(1);
  });

  it('streams a large upload to a slow reader with backpressure', async () => {
    const size = 8 * 1024 * 1024;
    const { port } = await serve((req, res) => {
      const body = req as unknown as Readable;
      let n = 0;
      body.on('data', (c: Buffer) => {
        n += c.length;
        body.pause();
        setImmediate(() => body.resume());
      });
      body.on('end', () => res.end(String(n)));
    });
    const text = await exchange(
      port,
      [`POST / HTTP/1.1\r\nhost: a\r\ncontent-length: ${size}\r\n\r\n`, Buffer.alloc(size, 1)],
      (t) => t.endsWith(String(size)),
    );
    expect(text.endsWith(`\r\n\r\n${size}`)).toBe(true);
  });

  it('hands an upgrade to the fallback with every byte it has not consumed', async () => {
    const { port, fallbacks } = await serve((req, res) => res.end('first'));
    const upgrade = 'GET /ws HTTP/1.1\r\nhost: a\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\nframe';
    const text = await exchange(port, [`GET / HTTP/1.1\r\nhost: a\r\n\r\n${upgrade}`]);
    expect(text).toContain('first');
    expect(text).toContain('HTTP/1.1 501');
    expect(fallbacks.map((b) => b.toString())).toEqual([upgrade]);
  });

  it('emits close without finish when the client goes away mid-response', async () => {
    let closed!: () => void;
    const sawClose = new Promise<void>((r) => (closed = r));
    const { port } = await serve((_req, res) => {
      res.writeHead(200, {});
      res.write(Buffer.from('partial'));
      res.once('finish', () => {
        throw new Error('not finished');
      });
      res.once('close', () => closed());
    });
    await exchange(port, ['GET / HTTP/1.1\r\nhost: a\r\n\r\n'], (t) => t.includes('partial'));
    await sawClose;
  });
});
