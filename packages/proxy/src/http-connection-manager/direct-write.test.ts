import net from 'node:net';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { writeDirect, writeDirectLatin1 } from './direct-write.js';

const open: net.Socket[] = [];
const servers: net.Server[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) s.destroy();
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

/** A connected loopback pair and everything the server side receives until the client ends. */
async function pair(): Promise<{ client: net.Socket; received: Promise<Buffer> }> {
  const server = net.createServer();
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  const accepted = once(server, 'connection') as Promise<[net.Socket]>;
  const client = net.connect(port, '127.0.0.1');
  open.push(client);
  await once(client, 'connect');
  const [peer] = await accepted;
  open.push(peer);
  const chunks: Buffer[] = [];
  peer.on('data', (c: Buffer) => chunks.push(c));
  const received = once(peer, 'end').then(() => Buffer.concat(chunks));
  return { client, received };
}

describe('writeDirect', () => {
  it('writes a whole buffer to the socket handle', async () => {
    const { client, received } = await pair();
    expect(writeDirect(client, Buffer.from('HTTP/1.1 200 OK\r\n\r\n'))).toBe(true);
    client.end();
    expect((await received).toString()).toBe('HTTP/1.1 200 OK\r\n\r\n');
  });

  it('keeps call order with a large (async) write followed by Writable writes and end', async () => {
    const { client, received } = await pair();
    const big = Buffer.alloc(8 * 1024 * 1024, 0x61);
    expect(writeDirect(client, big)).toBe(true);
    client.write('tail');
    client.end();
    const got = await received;
    expect(got.length).toBe(big.length + 4);
    expect(got.subarray(big.length).toString()).toBe('tail');
    expect(got.subarray(0, big.length).every((b) => b === 0x61)).toBe(true);
  });

  it('declines while the Writable is corked or holds data, so bytes never overtake', async () => {
    const { client, received } = await pair();
    client.cork();
    client.write('first;');
    expect(writeDirect(client, Buffer.from('second'))).toBe(false);
    client.uncork();
    // More than loopback's socket buffers take at once: the Writable holds the rest until it drains.
    client.write(Buffer.alloc(32 * 1024 * 1024, 0x62));
    expect(client.writableLength).toBeGreaterThan(0);
    expect(writeDirect(client, Buffer.from('x'))).toBe(false);
    client.end();
    const got = await received;
    expect(got.subarray(0, 6).toString()).toBe('first;');
    expect(got.length).toBe(6 + 32 * 1024 * 1024);
  });

  it('declines on an ended or destroyed socket', async () => {
    const { client } = await pair();
    client.end();
    expect(writeDirect(client, Buffer.from('late'))).toBe(false);
    client.destroy();
    expect(writeDirect(client, Buffer.from('late'))).toBe(false);
  });
});

describe('writeDirectLatin1', () => {
  it('writes a string as latin1, in call order with a large (async) write and Writable writes', async () => {
    const { client, received } = await pair();
    const head = 'GET / HTTP/1.1\r\nx: \u00e9\r\n\r\n';
    expect(writeDirectLatin1(client, head)).toBe(true);
    const big = 'b'.repeat(8 * 1024 * 1024);
    expect(writeDirectLatin1(client, big)).toBe(true);
    client.write('tail');
    client.end();
    const got = await received;
    expect(got.subarray(0, head.length)).toEqual(Buffer.from(head, 'latin1'));
    expect(got.length).toBe(head.length + big.length + 4);
    expect(got.subarray(head.length + big.length).toString()).toBe('tail');
  });

  it('declines while connecting, corked, ended or destroyed', async () => {
    const { client } = await pair();
    client.cork();
    expect(writeDirectLatin1(client, 'x')).toBe(false);
    client.uncork();
    client.end();
    expect(writeDirectLatin1(client, 'late')).toBe(false);
    const connecting = net.connect(1, '127.0.0.1');
    connecting.on('error', () => {});
    open.push(connecting);
    expect(writeDirectLatin1(connecting, 'early')).toBe(false);
  });
});
