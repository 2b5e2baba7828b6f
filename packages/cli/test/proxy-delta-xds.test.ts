// skein-proxy on incremental (delta) ADS against a real skeind: the in-process control plane in
// directory mode serves a sidecar (capture mode NONE, a bound egress listener) over
// DeltaAggregatedResources; the proxy routes to the ServiceEntry's endpoint, and a VirtualService
// written later reaches it as a live change.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBootstrap } from '@skein/agent';
import { startControlPlane, type RunningControlPlane } from '@skein/control-plane';
import { freePort, startProxy, type RunningProxy } from '@skein/proxy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'skein-delta-xds-'));
let app: http.Server;
let cp: RunningControlPlane;
let proxy: RunningProxy;
let egressPort: number;

/** A free loopback port for the Sidecar's egress listener (it must be named in the config). */

function request(path: string): Promise<{ status: number; body: string; route: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: egressPort, path, headers: { host: 'web.example.com' }, agent: false },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body,
            route: res.headers['x-skein-route'] as string | undefined,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  app = http.createServer((req, res) => res.end(`app saw ${req.url ?? ''}`));
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  const appPort = (app.address() as AddressInfo).port;
  egressPort = await freePort();
  writeFileSync(
    join(dir, 'mesh.yaml'),
    `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: web, namespace: demo }
spec:
  hosts: [web.example.com]
  ports: [{ number: ${egressPort}, name: http, protocol: HTTP }]
  resolution: STATIC
  endpoints: [{ address: 127.0.0.1, ports: { http: ${appPort} } }]
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: { name: default, namespace: demo }
spec:
  egress:
  - port: { number: ${egressPort}, protocol: HTTP, name: http }
    bind: 127.0.0.1
    hosts: ["./*"]
`,
  );
  cp = await startControlPlane({
    configDir: dir,
    xdsAddr: '127.0.0.1:0',
    httpAddr: '127.0.0.1:0',
    logLevel: 'error',
    debounceMs: 20,
    debounceMaxMs: 200,
    settleMs: 20,
  });
  const [host, port] = cp.xdsAddress.split(':');
  const bootstrap = buildBootstrap({
    podName: 'client-1',
    namespace: 'demo',
    podIp: '127.0.0.1',
    labels: { app: 'client' },
    serviceAccount: 'client',
    interceptionMode: 'NONE',
    discovery: { host: host as string, port: Number(port) },
    adsApiType: 'DELTA_GRPC',
    admin: { address: '127.0.0.1', port: 0 },
    listenAddress: '127.0.0.1',
    statsPort: null,
    readinessPort: null,
  });
  proxy = await startProxy(bootstrap, { logLevel: 'error', deltaXds: true });
  await proxy.waitReady();
});

afterAll(async () => {
  await proxy?.stop();
  await cp?.stop();
  if (app) {
    app.closeAllConnections();
    await new Promise<void>((r) => app.close(() => r()));
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('skein-proxy on delta xDS from skeind', () => {
  it('routes through the listener, route and cluster skeind sent incrementally', async () => {
    const r = await request('/hello');
    expect(r.status).toBe(200);
    expect(r.body).toBe('app saw /hello');
    expect(r.route).toBeUndefined();
  });

  it('applies a live change: a VirtualService added later reaches the proxy', async () => {
    writeFileSync(
      join(dir, 'vs.yaml'),
      `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: web, namespace: demo }
spec:
  hosts: [web.example.com]
  http:
  - headers: { response: { add: { x-skein-route: v2 } } }
    rewrite: { uri: /v2/ }
    route: [{ destination: { host: web.example.com } }]
`,
    );
    let r = await request('/hello');
    while (r.route !== 'v2') {
      await new Promise((res) => setTimeout(res, 50));
      r = await request('/hello');
    }
    // Istio's uri rewrite replaces the matched prefix (here the default "/").
    expect(r.body).toBe('app saw /v2/hello');
  });
});
