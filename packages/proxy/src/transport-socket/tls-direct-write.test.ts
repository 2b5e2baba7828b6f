import net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makePki, type Leaf } from '../../test/helpers/certs.js';
import { writeTlsDirect } from './tls-direct-write.js';

/** A P-256 leaf from the tests' openssl PKI, removed after. */
let cert: Leaf;
const pki = makePki();
beforeAll(() => {
  cert = pki.leaf('', { dns: ['direct.test'] });
});
afterAll(() => pki.cleanup());

const open: net.Socket[] = [];
const servers: net.Server[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) s.destroy();
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

/** A TLS connection on loopback: the server side's socket (the writer) and what its peer receives until it ends. */
async function pair(): Promise<{ server: tls.TLSSocket; client: tls.TLSSocket; received: Promise<Buffer> }> {
  const srv = tls.createServer({ key: cert.key, cert: cert.cert });
  servers.push(srv);
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address() as net.AddressInfo;
  const accepted = once(srv, 'secureConnection') as Promise<[tls.TLSSocket]>;
  const client = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false });
  open.push(client);
  await once(client, 'secureConnect');
  const [server] = await accepted;
  open.push(server);
  const chunks: Buffer[] = [];
  client.on('data', (c: Buffer) => chunks.push(c));
  const received = once(client, 'end').then(() => Buffer.concat(chunks));
  return { server, client, received };
}

describe('writeTlsDirect', () => {
  it('writes bytes and latin1 strings to an established TLS socket', async () => {
    const { server, received } = await pair();
    expect(writeTlsDirect(server, Buffer.from('HTTP/1.1 200 OK\r\n'))).toBe(true);
    // The first write is still in flight (TLSWrap completes asynchronously): the next one declines.
    expect(writeTlsDirect(server, 'late')).toBe(false);
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(writeTlsDirect(server, 'x-h: \xe9\r\n\r\n')).toBe(true);
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    server.end();
    expect((await received).toString('latin1')).toBe('HTTP/1.1 200 OK\r\nx-h: \xe9\r\n\r\n');
  });

  it('keeps call order: Writable writes and end() issued while a direct write is in flight wait for it', async () => {
    const { server, received } = await pair();
    const big = Buffer.alloc(4 * 1024 * 1024, 0x61);
    expect(writeTlsDirect(server, big)).toBe(true);
    // Without the wait, this write would reach TLSWrap with one in flight (a fatal CHECK in Node).
    server.write('tail');
    server.end('!');
    const got = await received;
    expect(got.length).toBe(big.length + 5);
    expect(got.subarray(big.length).toString()).toBe('tail!');
    expect(got.subarray(0, big.length).every((b) => b === 0x61)).toBe(true);
    expect(server.writableFinished).toBe(true);
  });

  it('declines while the Writable is corked or holds data, before the handshake, and on ended sockets', async () => {
    const { server, received } = await pair();
    server.cork();
    server.write('first;');
    expect(writeTlsDirect(server, Buffer.from('second'))).toBe(false);
    server.uncork();
    expect(server.writableLength).toBeGreaterThan(0);
    expect(writeTlsDirect(server, Buffer.from('x'))).toBe(false);
    expect(writeTlsDirect(server, '')).toBe(false);
    server.end();
    expect(writeTlsDirect(server, Buffer.from('late'))).toBe(false);
    expect((await received).toString()).toBe('first;');

    const plain = net.createServer((c) => open.push(c));
    servers.push(plain);
    plain.listen(0, '127.0.0.1');
    await once(plain, 'listening');
    const raw = net.connect((plain.address() as net.AddressInfo).port, '127.0.0.1');
    open.push(raw);
    const handshaking = tls.connect({ socket: raw, rejectUnauthorized: false });
    open.push(handshaking);
    expect(writeTlsDirect(handshaking, Buffer.from('early'))).toBe(false);
    await once(raw, 'connect');
    expect(writeTlsDirect(raw as unknown as tls.TLSSocket, Buffer.from('plain'))).toBe(false);
  });

  it('a socket destroyed with a write in flight runs what waited and does not throw', async () => {
    const { server, client } = await pair();
    expect(writeTlsDirect(server, Buffer.alloc(1024 * 1024, 0x62))).toBe(true);
    const done = new Promise<Error | null | undefined>((r) => server.write('after', (e) => r(e)));
    server.destroy();
    client.destroy();
    const err = await done;
    expect(err).toBeInstanceOf(Error);
    expect(server.destroyed).toBe(true);
  });
});
