// Terminated downstream TLS connections read (decrypted) into the codec's shared buffer, as plain
// ones do: a connection's partial head and body bytes survive other connections' reads.
import type net from 'node:net';
import tls from 'node:tls';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  Http1ServerConnection,
  type RawRequest,
} from '../src/http-connection-manager/http1-server-connection.js';
import { hasOpenssl, makePki, type TestPki } from './helpers/certs.js';
import { interleavedPosts } from './helpers/interleaved-posts.js';

const haveOpenssl = hasOpenssl();

describe.skipIf(!haveOpenssl)(
  'downstream TLS reads (skipped without openssl: the certificates are made with it)',
  () => {
    let pki: TestPki;
    beforeAll(() => {
      pki = makePki();
    });
    afterAll(() => pki.cleanup());

    it('keeps each connection’s bytes apart while decrypted reads share one buffer', async () => {
      const leaf = pki.leaf('', { dns: ['server.test'] });
      const bodies: string[] = [];
      let dataListeners = -1;
      const server = tls.createServer({ cert: leaf.cert, key: leaf.key }, (t) => {
        new Http1ServerConnection(t, {
          onRequest: (req: RawRequest, res) => {
            const parts: Buffer[] = [];
            const body = req as unknown as Readable;
            body.on('data', (c: Buffer) => parts.push(c));
            body.on('end', () => {
              const b = Buffer.concat(parts);
              bodies.push(`${req.url} ${b.toString()}`);
              res.writeHead(200, { 'content-length': String(b.length) });
              res.end(b);
            });
          },
          fallback: (s) => s.destroy(),
          onProtocolError: () => undefined,
          streamIdleMs: 0,
          idleTimeoutMs: 10_000,
          draining: () => false,
        });
        dataListeners = t.listenerCount('data');
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const port = (server.address() as net.AddressInfo).port;
      const open = (): Promise<tls.TLSSocket> =>
        new Promise((resolve) => {
          const c = tls.connect({ host: '127.0.0.1', port, ca: pki.ca, servername: 'server.test' }, () =>
            resolve(c),
          );
        });
      const a = await open();
      const b = await open();
      let gotA = '';
      let gotB = '';
      a.on('data', (d: Buffer) => (gotA += d.toString('latin1')));
      b.on('data', (d: Buffer) => (gotB += d.toString('latin1')));
      await interleavedPosts(a, b);
      await vi.waitFor(() => expect(gotA).toMatch(/aaaaaaaaaa$/));
      await vi.waitFor(() => expect(gotB).toMatch(/BBBBBBBBBB$/));
      a.destroy();
      b.destroy();
      await new Promise((r) => server.close(r));
      expect(bodies.sort()).toEqual(['/aaaa aaaaaaaaaa', '/bbbb BBBBBBBBBB']);
      // Read through the shared buffer: the connection attached no 'data' listener of its own.
      expect(dataListeners).toBe(0);
    });
  },
);
