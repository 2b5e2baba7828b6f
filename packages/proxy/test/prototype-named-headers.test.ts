// Header fields named like Object.prototype members (`constructor`, `__proto__`) go through the
// proxy as they were sent, both ways, checked on the wire with a raw upstream (node:http drops a
// `__proto__` field from its own header objects, so an echo server could not show it).
import net from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startProxy, type RunningProxy } from '../src/index.js';
import { ADMIN, httpListener, staticCluster } from './helpers/upstreams.js';

let upstream: net.Server;
let proxy: RunningProxy;
let port: number;
const heads: string[] = [];

beforeAll(async () => {
  upstream = net.createServer((socket) => {
    let seen = '';
    socket.on('data', (d: Buffer) => {
      seen += d.toString('latin1');
      const end = seen.indexOf('\r\n\r\n');
      if (end < 0) return;
      heads.push(seen.slice(0, end));
      seen = seen.slice(end + 4);
      socket.write('HTTP/1.1 200 OK\r\n__proto__: r\r\nconstructor: s\r\ncontent-length: 2\r\n\r\nok');
    });
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const upstreamPort = (upstream.address() as net.AddressInfo).port;
  const routes = {
    name: 'local',
    virtual_hosts: [
      { name: 'any', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'raw' } }] },
    ],
  };
  proxy = await startProxy({
    node: { id: 'sidecar~127.0.0.1~test.default~default.svc.cluster.local', cluster: 'test' },
    admin: ADMIN,
    static_resources: {
      listeners: [httpListener('http', routes)],
      clusters: [staticCluster('raw', [upstreamPort])],
    },
  });
  port = proxy.listenerAddress('http')?.port ?? 0;
});

afterAll(async () => {
  await proxy?.stop();
  await new Promise((r) => upstream?.close(r));
});

/** One request on a raw connection; resolves with the response head. */
function exchange(request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = net.connect(port, '127.0.0.1', () => c.write(request));
    let got = '';
    c.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      const end = got.indexOf('\r\n\r\n');
      if (end >= 0) {
        c.destroy();
        resolve(got.slice(0, end));
      }
    });
    c.on('error', reject);
  });
}

it('forwards fields named constructor and __proto__ upstream and back', async () => {
  const head = await exchange('GET /x HTTP/1.1\r\nHost: h\r\nconstructor: a\r\n__proto__: c\r\n\r\n');
  const sent = (heads.at(-1) ?? '').toLowerCase().split('\r\n');
  expect(sent).toContain('constructor: a');
  expect(sent).toContain('__proto__: c');
  const back = head.toLowerCase().split('\r\n');
  expect(back[0]).toBe('http/1.1 200 ok');
  expect(back).toContain('__proto__: r');
  expect(back).toContain('constructor: s');
});
