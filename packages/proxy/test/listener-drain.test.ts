// A listener update drains the replaced filter chain's HTTP/1.1 connections as Envoy does: an idle
// keep-alive connection is not cut at once (a client's pooled request may be on its way), its next
// request is answered with `connection: close`, and idle ones close after the HCM's drain_timeout.
import http from 'node:http';
import type { Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { TypeUrl } from '@skein/api-types';
import { startProxy, startTestAdsServer } from '../src/index.js';
import { startEcho } from './helpers/upstreams.js';
import { adsBootstrap, assignment, edsCluster, rdsListener, routeTo } from './helpers/xds-resources.js';
import { freePort } from './helpers/free-port.js';
import { nextXds } from './helpers/xds-events.js';

const cleanup: (() => unknown)[] = [];
afterAll(async () => {
  for (const c of cleanup.reverse()) await c();
});

/** The RDS listener with its HCM's stat prefix and drain_timeout set (a changed chain). */
function listener(port: number, statPrefix: string, drainTimeout: string): Record<string, unknown> {
  const l = rdsListener('http', port, 'r1') as {
    filterChains: { filters: { typedConfig: Record<string, unknown> }[] }[];
  };
  const hcm = l.filterChains[0]!.filters[0]!.typedConfig;
  hcm['statPrefix'] = statPrefix;
  hcm['drainTimeout'] = drainTimeout;
  return l;
}

interface Reply {
  status: number;
  connection: string | undefined;
  reused: boolean;
  socket: Socket;
}

function getVia(agent: http.Agent, port: number): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
      res.resume();
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          connection: res.headers.connection,
          reused: req.reusedSocket,
          socket: req.socket as Socket,
        }),
      );
    });
    req.on('error', reject);
  });
}

describe('listener update drain', () => {
  it('answers a pooled request after the update, then closes; idle connections close after drain_timeout', async () => {
    const app = await startEcho('app');
    const ads = await startTestAdsServer();
    cleanup.push(
      () => app.close(),
      () => ads.close(),
    );
    const port = await freePort();
    ads.set(TypeUrl.Cluster, [edsCluster('svc')], 'c1');
    ads.set(TypeUrl.ClusterLoadAssignment, [assignment('svc', [app.port])], 'e1');
    ads.set(TypeUrl.Listener, [listener(port, 'one', '60s')], 'l1');
    ads.set(TypeUrl.RouteConfiguration, [routeTo('r1', 'svc')], 'r1');
    const proxy = await startProxy(adsBootstrap(ads.port), { logLevel: 'off' });
    cleanup.push(() => proxy.stop());
    await proxy.waitReady();

    // Two clients, each holding one idle keep-alive connection to the proxy.
    const pooled = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const idle = new http.Agent({ keepAlive: true, maxSockets: 1 });
    cleanup.push(
      () => pooled.destroy(),
      () => idle.destroy(),
    );
    const first = await getVia(pooled, port);
    expect([first.status, first.connection]).toEqual([200, undefined]); // HTTP/1.1: keep-alive
    const idleSocket = (await getVia(idle, port)).socket;

    // The filter chain changes (the new one with a short drain_timeout, for later).
    let applied = nextXds(proxy, (e) => e.typeUrl === TypeUrl.Listener && e.accepted);
    ads.set(TypeUrl.Listener, [listener(port, 'two', '0.2s')], 'l2');
    await applied;

    // The pooled connection was not cut: it carries the next request, answered, then closed.
    const second = await getVia(pooled, port);
    expect(second).toMatchObject({ status: 200, connection: 'close', reused: true });
    expect(second.socket).toBe(first.socket);
    // The next request opens a connection on the new chain, which stays open.
    const third = await getVia(pooled, port);
    expect([third.status, third.connection, third.reused]).toEqual([200, undefined, false]);

    // The other idle connection is still open now (60 s drain_timeout on its old chain)...
    expect(idleSocket.destroyed).toBe(false);
    // ...and when the chain with the short drain_timeout is replaced, its idle connections close.
    const idle2 = new http.Agent({ keepAlive: true, maxSockets: 1 });
    cleanup.push(() => idle2.destroy());
    const idle2Socket = (await getVia(idle2, port)).socket;
    const idle2Closed = new Promise<void>((r) => idle2Socket.once('close', () => r()));
    applied = nextXds(proxy, (e) => e.typeUrl === TypeUrl.Listener && e.accepted);
    ads.set(TypeUrl.Listener, [listener(port, 'three', '60s')], 'l3');
    await applied;
    await idle2Closed;
    expect(idleSocket.destroyed).toBe(false);
  });
});
