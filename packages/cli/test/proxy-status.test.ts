// skeinctl proxy-status and version against a real skeind (in directory mode) with a real
// skein-proxy connected over ADS.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildBootstrap } from '@skein/agent';
import { readFileSync } from 'node:fs';
import { startControlPlane, type RunningControlPlane } from '@skein/control-plane';
import { startProxy, type RunningProxy } from '@skein/proxy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const bin = join(import.meta.dirname, '../../../bin/skeinctl');
const run = async (...args: string[]) => (await promisify(execFile)(bin, args)).stdout;
const dir = mkdtempSync(join(tmpdir(), 'skeinctl-ps-'));
let cp: RunningControlPlane;
let proxy: RunningProxy;

beforeAll(async () => {
  writeFileSync(
    join(dir, 'mesh.yaml'),
    'apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: { name: web, namespace: demo }\nspec:\n  hosts: [web.example.com]\n  ports: [{ number: 80, name: http, protocol: HTTP }]\n  resolution: STATIC\n  endpoints: [{ address: 127.0.0.1 }]\n',
  );
  cp = await startControlPlane({
    configDir: dir,
    xdsAddr: '127.0.0.1:0',
    httpAddr: '127.0.0.1:0',
    logLevel: 'error',
  });
  const [host, port] = cp.xdsAddress.split(':');
  const bootstrap = buildBootstrap({
    podName: 'web-1',
    namespace: 'demo',
    podIp: '127.0.0.1',
    labels: { app: 'web' },
    serviceAccount: 'web',
    interceptionMode: 'NONE',
    discovery: { host: host as string, port: Number(port) },
    admin: { address: '127.0.0.1', port: 0 },
    listenAddress: '127.0.0.1',
    statsPort: null,
    readinessPort: null,
  });
  proxy = await startProxy(bootstrap, { logLevel: 'error' });
  const deadline = Date.now() + 20_000;
  while (!cp.syncz().proxies.some((p) => p.types.some((t) => t.type === 'LDS' && t.status === 'SYNCED'))) {
    if (Date.now() > deadline) throw new Error(`proxy never synced: ${JSON.stringify(cp.syncz())}`);
    await new Promise((r) => setTimeout(r, 50));
  }
});
afterAll(async () => {
  await proxy?.stop();
  await cp?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('skeinctl with a running mesh', () => {
  it('proxy-status shows the connected proxy SYNCED', async () => {
    const out = await run('proxy-status', '--control-plane', `http://${cp.httpAddress}`);
    expect(out).toMatch(/^NAME\s+CLUSTER\s+CDS\s+LDS\s+EDS\s+RDS\s+NDS\s+VERSION/);
    expect(out).toMatch(/sidecar~127\.0\.0\.1~web-1\.demo~demo\.svc\.cluster\.local\s+\S+\s+SYNCED\s+SYNCED/);
  });

  it('version reports client, control plane and proxy', async () => {
    const a = proxy.adminAddress;
    const out = await run(
      'version',
      '--control-plane',
      `http://${cp.httpAddress}`,
      '--admin',
      `http://${a?.address}:${a?.port}`,
      '-o',
      'json',
    );
    const v = JSON.parse(out) as Record<string, string>;
    // The binaries are built and stamped with the one release version; the in-process control
    // plane and proxy run from source here, so they report the unstamped development version.
    const release = (
      JSON.parse(readFileSync(join(import.meta.dirname, '../../../package.json'), 'utf8')) as {
        version: string;
      }
    ).version;
    expect(v).toEqual({ client: release, controlPlane: '0.0.0-dev', proxy: '0.0.0-dev' });
  });
});
