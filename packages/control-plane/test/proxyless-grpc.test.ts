// Interop with a real third-party xDS client: @grpc/grpc-js-xds dialing xds:/// targets through
// skeind in directory mode, with real gRPC backends on loopback.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startControlPlane, type RunningControlPlane } from '../src/index.js';
import { echoClient, startEcho, type EchoBackend, type EchoResult } from './support/grpc-echo.js';

const HOST = 'echo.default.svc.cluster.local';
const TARGET = `xds:///${HOST}:7070`;

function serviceYaml(backends: Record<string, EchoBackend>): string {
  const endpoints = Object.entries(backends)
    .map(
      ([version, b]) =>
        `  - { address: 127.0.0.1, ports: { grpc: ${b.port} }, labels: { app: echo, version: ${version} } }`,
    )
    .join('\n');
  return `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: echo, namespace: default }
spec:
  hosts: [${HOST}]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 7070, name: grpc, protocol: GRPC }]
  endpoints:
${endpoints}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: echo, namespace: default }
spec:
  host: ${HOST}
  subsets:
${Object.keys(backends)
  .map((v) => `  - { name: ${v}, labels: { version: ${v} } }`)
  .join('\n')}
`;
}

describe('proxyless gRPC through skeind (@grpc/grpc-js-xds)', () => {
  let dir: string;
  let cp: RunningControlPlane;
  let backends: Record<string, EchoBackend>;
  let client: ReturnType<typeof echoClient>;
  let routesVersion = 0;

  /** Writes the VirtualService and waits until the client routes by it (probe header). */
  async function applyRoutes(http: string): Promise<void> {
    const probe = `v${++routesVersion}`;
    writeFileSync(
      join(dir, 'vs.yaml'),
      `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: echo, namespace: default }
spec:
  hosts: [${HOST}]
  http:
  - match: [{ headers: { x-probe: { exact: ${probe} } } }]
    route: [{ destination: { host: ${HOST}, subset: probe } }]
${http}`,
    );
    // The new route table is live once probe calls reach the probe backend. The previous table's
    // default route also spreads calls over every endpoint, the probe backend included, so one
    // lucky answer proves nothing (that made the weighted-split test flaky): ask for ten in a row.
    await expect
      .poll(
        async () => {
          for (let i = 0; i < 10; i++) {
            const r = await client.call({ 'x-probe': probe });
            if (!r.ok || r.backend !== 'probe') return false;
          }
          return true;
        },
        { interval: 20, timeout: 15_000 },
      )
      .toBe(true);
  }

  beforeAll(async () => {
    backends = {
      v1: await startEcho('v1'),
      v2: await startEcho('v2'),
      flaky: await startEcho('flaky', { failEveryOther: true }),
      slow: await startEcho('slow', { delayMs: 400 }),
      probe: await startEcho('probe'),
    };
    dir = mkdtempSync(join(tmpdir(), 'skein-grpc-'));
    writeFileSync(join(dir, 'echo.yaml'), serviceYaml(backends));
    cp = await startControlPlane({
      configDir: dir,
      xdsAddr: '127.0.0.1:0',
      httpAddr: '127.0.0.1:0',
      debounceMs: 10,
      debounceMaxMs: 100,
      settleMs: 10,
      logLevel: 'none',
    });
    process.env['GRPC_XDS_BOOTSTRAP_CONFIG'] = JSON.stringify({
      xds_servers: [
        { server_uri: cp.xdsAddress, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] },
      ],
      node: {
        id: 'sidecar~127.0.0.1~client.default~default.svc.cluster.local',
        metadata: { GENERATOR: 'grpc', NAMESPACE: 'default' },
        locality: {},
      },
    });
    const xds = await import('@grpc/grpc-js-xds');
    xds.register();
    client = echoClient(TARGET);
  });
  afterAll(async () => {
    client?.close();
    await cp?.stop();
    await Promise.all(Object.values(backends ?? {}).map((b) => b.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  const many = async (n: number, headers: Record<string, string> = {}): Promise<EchoResult[]> => {
    const out: EchoResult[] = [];
    for (let i = 0; i < n; i++) out.push(await client.call(headers));
    return out;
  };
  const share = (rs: EchoResult[], name: string) =>
    rs.filter((r) => r.ok && r.backend === name).length / rs.length;

  it('splits traffic by relative weights', async () => {
    await applyRoutes(`  - route:
    - { destination: { host: ${HOST}, subset: v1 }, weight: 3 }
    - { destination: { host: ${HOST}, subset: v2 }, weight: 1 }
`);
    const rs = await many(300);
    expect(rs.every((r) => r.ok)).toBe(true);
    expect(share(rs, 'v1')).toBeGreaterThan(0.65);
    expect(share(rs, 'v1')).toBeLessThan(0.85);
    expect(share(rs, 'v1') + share(rs, 'v2')).toBe(1);
  });

  it('routes by header', async () => {
    await applyRoutes(`  - match: [{ headers: { end-user: { exact: jason } } }]
    route: [{ destination: { host: ${HOST}, subset: v2 } }]
  - route: [{ destination: { host: ${HOST}, subset: v1 } }]
`);
    expect(share(await many(20, { 'end-user': 'jason' }), 'v2')).toBe(1);
    expect(share(await many(20, { 'end-user': 'mary' }), 'v1')).toBe(1);
  });

  it('injects aborts and delays', async () => {
    await applyRoutes(`  - match: [{ headers: { x-fault: { exact: abort } } }]
    fault: { abort: { grpcStatus: UNAVAILABLE, percentage: { value: 100 } } }
    route: [{ destination: { host: ${HOST}, subset: v1 } }]
  - match: [{ headers: { x-fault: { exact: delay } } }]
    fault: { delay: { fixedDelay: 300ms, percentage: { value: 100 } } }
    route: [{ destination: { host: ${HOST}, subset: v1 } }]
  - route: [{ destination: { host: ${HOST}, subset: v1 } }]
`);
    const aborted = await client.call({ 'x-fault': 'abort' });
    expect(aborted).toMatchObject({ ok: false, code: grpc.status.UNAVAILABLE });
    const delayed = await client.call({ 'x-fault': 'delay' });
    expect(delayed.ok).toBe(true);
    expect(delayed.ms).toBeGreaterThanOrEqual(290);
    expect((await client.call()).ok).toBe(true);
  });

  it('retries and times out as the route says', async () => {
    await applyRoutes(`  - match: [{ headers: { x-case: { exact: retry } } }]
    retries: { attempts: 3, retryOn: unavailable }
    route: [{ destination: { host: ${HOST}, subset: flaky } }]
  - match: [{ headers: { x-case: { exact: noretry } } }]
    retries: { attempts: 0 }
    route: [{ destination: { host: ${HOST}, subset: flaky } }]
  - match: [{ headers: { x-case: { exact: timeout } } }]
    timeout: 100ms
    route: [{ destination: { host: ${HOST}, subset: slow } }]
  - route: [{ destination: { host: ${HOST}, subset: v1 } }]
`);
    const retried = await many(10, { 'x-case': 'retry' });
    expect(retried.every((r) => r.ok && r.backend === 'flaky')).toBe(true);
    const unretried = await many(10, { 'x-case': 'noretry' });
    expect(unretried.filter((r) => !r.ok).length).toBe(5);
    const timedOut = await client.call({ 'x-case': 'timeout' });
    expect(timedOut).toMatchObject({ ok: false, code: grpc.status.DEADLINE_EXCEEDED });
    expect(timedOut.ms).toBeLessThan(390);
  });

  it('applies a config edit while calls continue, without failing any', async () => {
    await applyRoutes(`  - route: [{ destination: { host: ${HOST}, subset: v1 } }]
`);
    const results: EchoResult[] = [];
    let running = true;
    const loop = (async () => {
      while (running) results.push(await client.call());
    })();
    await expect.poll(() => results.length, { interval: 10 }).toBeGreaterThan(20);
    writeFileSync(
      join(dir, 'vs.yaml'),
      `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: echo, namespace: default }
spec:
  hosts: [${HOST}]
  http:
  - route: [{ destination: { host: ${HOST}, subset: v2 } }]
`,
    );
    await expect
      .poll(() => results.at(-1), { interval: 10, timeout: 15_000 })
      .toMatchObject({ backend: 'v2' });
    const after = results.length;
    await expect.poll(() => results.length, { interval: 10 }).toBeGreaterThan(after + 20);
    running = false;
    await loop;
    expect(results.filter((r) => !r.ok)).toEqual([]);
    const firstV2 = results.findIndex((r) => r.ok && r.backend === 'v2');
    expect(results.slice(firstV2).every((r) => r.ok && r.backend === 'v2')).toBe(true);
  });
});
