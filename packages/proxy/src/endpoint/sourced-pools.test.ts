import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { makeHost } from './host.js';
import { SourcedPools } from './sourced-pools.js';

const opts = { connectTimeoutMs: 1000, maxConnections: 4, idleTimeoutMs: 1000 };

describe('HTTP/1.1 pools per client address (original_src)', () => {
  it('keeps one pool per host and client address, drops unused ones, and retains by host', async () => {
    const pools = new SourcedPools(opts);
    const a = makeHost('127.0.0.1', 8080);
    const b = makeHost('127.0.0.2', 8080);
    const c1 = { address: '127.0.0.21', mark: 1337 };
    const c2 = { address: '127.0.0.22', mark: 1337 };
    const p1 = pools.get(a, c1);
    expect(pools.get(a, c1)).toBe(p1);
    expect(pools.get(a, c2)).not.toBe(p1);
    // p1 never opened a connection: making another pool sweeps it away.
    expect(pools.get(b, c1)).not.toBe(p1);
    expect(pools.get(a, c1)).not.toBe(p1);
    // A pool with a request in flight is kept until the host leaves (loopback sources only).
    const server = net.createServer(() => {}).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    try {
      const h = makeHost('127.0.0.1', (server.address() as net.AddressInfo).port);
      const busy = pools.get(h, c1);
      const ac = new AbortController();
      const pending = busy
        .request({
          method: 'GET',
          path: '/',
          authority: 'x',
          headers: {},
          body: undefined,
          signal: ac.signal,
        })
        .catch((e: Error) => e.message);
      pools.get(a, { address: '127.0.0.23', mark: 0 });
      expect(pools.get(h, c1)).toBe(busy);
      pools.retain(new Set([a.key]));
      expect(pools.get(h, c1)).not.toBe(busy);
      ac.abort();
      pools.destroy();
      expect(typeof (await pending)).toBe('string');
    } finally {
      server.close();
    }
  });
});
