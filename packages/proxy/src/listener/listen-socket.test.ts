// A socket bound without listening: its port is known, connections are refused until
// net.Server listens on it, then accepted on that same port (real sockets on loopback).
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { bindListenSocket } from './listen-socket.js';

function connectOutcome(port: number, host = '127.0.0.1'): Promise<'accepted' | 'refused'> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, host);
    s.once('connect', () => {
      s.destroy();
      resolve('accepted');
    });
    s.once('error', (err: NodeJS.ErrnoException) =>
      err.code === 'ECONNREFUSED' ? resolve('refused') : reject(err),
    );
  });
}

describe('bindListenSocket', () => {
  it.each([
    ['127.0.0.1', false],
    ['127.0.0.1', true],
    ['::1', false],
  ] as const)('binds %s:0 (reusePort %s) now and listens later on the same port', async (host, reusePort) => {
    const bound = bindListenSocket(host, 0, reusePort);
    expect(bound).toBeDefined();
    const port = bound!.address.port;
    expect(port).toBeGreaterThan(0);
    expect(bound!.address.address).toBe(host);
    expect(await connectOutcome(port, host)).toBe('refused');
    const server = net.createServer((s) => s.destroy());
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(bound!.handle, resolve);
    });
    expect((server.address() as net.AddressInfo).port).toBe(port);
    expect(await connectOutcome(port, host)).toBe('accepted');
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('leaves a host name to net.Server (undefined) and releases a socket it never listened on', async () => {
    expect(bindListenSocket('localhost', 0, false)).toBeUndefined();
    const bound = bindListenSocket('127.0.0.1', 0, false)!;
    bound.close();
    bound.close(); // idempotent
    const server = net.createServer();
    // the port is free again: a listener without SO_REUSEADDR semantics in the way can take it
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(bound.address.port, '127.0.0.1', resolve);
    });
    await new Promise<void>((r) => server.close(() => r()));
  });
});
