// `skein-agent proxy` assembled in-process (runAgent) around a FAKE proxy child: the CA issues the
// workload certificate, the proxy reads it over SDS from the path in its bootstrap, readiness
// follows, SIGTERM drains then stops the proxy, and the agent exits with the proxy's code.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  BootstrapTokenAuthenticator,
  CertificateAuthority,
  createRootCa,
  startCa,
  type RunningCa,
} from '@skein/ca';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAgent, type AgentConfig } from '../src/lifecycle/run-agent.js';
import { waitForReady } from '../src/lifecycle/wait.js';
import { freePort } from './support/processes.js';

const fakeProxy = fileURLToPath(new URL('./fixtures/fake-proxy.mjs', import.meta.url));

describe('skein-agent proxy', () => {
  const dir = mkdtempSync(join(tmpdir(), 'skein-agent-'));
  let ca: RunningCa;
  const logs: string[] = [];

  beforeAll(async () => {
    const core = await CertificateAuthority.create(await createRootCa({ trustDomain: 'cluster.local' }));
    ca = await startCa({
      ca: core,
      host: '127.0.0.1',
      port: 0,
      authenticators: [BootstrapTokenAuthenticator.parse('tok demo web\n', 'cluster.local')],
    });
  });
  afterAll(async () => {
    await ca.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function config(name: string): Promise<AgentConfig> {
    return {
      bootstrap: {
        podName: name,
        namespace: 'demo',
        podIp: '127.0.0.1',
        serviceAccount: 'web',
        discovery: { host: '127.0.0.1', port: 15010 },
        sdsSocket: join(dir, name, 'sds.sock'),
        admin: { address: '127.0.0.1', port: await freePort() },
        statsPort: null,
        readinessPort: null,
      },
      bootstrapPath: join(dir, name, 'envoy.json'),
      proxyCommand: process.execPath,
      proxyArgs: [fakeProxy],
      ca: {
        address: `127.0.0.1:${ca.port}`,
        rootCertPem: ca.rootCertPem,
        token: 'tok',
        identity: 'spiffe://cluster.local/ns/demo/sa/web',
        ttlSeconds: 3600,
      },
      status: { host: '127.0.0.1', port: 0 },
      drainDurationMs: 20_000,
      exitOnZeroActiveConnections: true,
      log: (m) => logs.push(m),
    };
  }

  it('serves the workload certificate to the proxy, becomes ready, drains on SIGTERM and exits 0', async () => {
    const c = await config('web');
    const agent = await runAgent(c);
    const ready = await waitForReady({
      url: `http://127.0.0.1:${agent.statusPort}/healthz/ready`,
      timeoutMs: 20_000,
      periodMs: 100,
    });
    expect(ready).toBe(true);
    const admin = `http://127.0.0.1:${c.bootstrap.admin!.port}`;
    expect(await (await fetch(`${admin}/cert`)).text()).toBe('URI:spiffe://cluster.local/ns/demo/sa/web');
    const written = JSON.parse(readFileSync(c.bootstrapPath, 'utf8')) as { node: { id: string } };
    expect(written.node.id).toBe('sidecar~127.0.0.1~web.demo~demo.svc.cluster.local');
    await agent.terminate();
    expect(await agent.done).toBe(0);
    // Left early: the fake reports zero connections once drained, well before the 20 s drain time.
    expect(logs).toContain('drain finished');
  });

  it('exits with the proxy exit code when the proxy dies by itself', async () => {
    const c = await config('crash');
    process.env['FAKE_EXIT_CODE'] = '3';
    try {
      const agent = await runAgent(c);
      expect(await agent.done).toBe(3);
    } finally {
      delete process.env['FAKE_EXIT_CODE'];
    }
  });
});
