// skein-agent with the real skein-proxy and the real skeind (their built binaries): the proxy's
// xDS goes through the agent's relay socket to skeind, the proxy reads its certificate over SDS,
// the agent reports ready once the proxy has its first config, and SIGTERM drains and exits 0.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type RunningCa } from '@skein/ca';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAgent } from '../src/lifecycle/run-agent.js';
import { waitForReady } from '../src/lifecycle/wait.js';
import { startTestCa } from './support/test-ca.js';
import { freePort, startSkeind, type SkeindProcess } from './support/processes.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const built = ['packages/proxy/dist/main.js', 'packages/control-plane/dist/main.js'].filter(
  (f) => !existsSync(join(root, f)),
);

// Needs `npm run build` (npm test builds first); skipped with the missing files named otherwise.
describe.skipIf(built.length > 0)(
  `agent + real proxy + real skeind${built.length ? ` (not built: ${built.join(', ')})` : ''}`,
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'skein-agent-e2e-'));
    let skeind: SkeindProcess;
    let ca: RunningCa;
    let xdsPort: number;

    beforeAll(async () => {
      // The CA started below (startCa) is this test's: skeind's embedded one is turned off.
      skeind = await startSkeind(dir);
      xdsPort = skeind.xdsPort;
      ({ ca } = await startTestCa('tok demo web\n'));
    }, 60_000);

    afterAll(async () => {
      await ca?.close();
      await skeind?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('becomes ready through skeind and drains on SIGTERM', async () => {
      const logs: string[] = [];
      const agent = await runAgent({
        bootstrap: {
          podName: 'web-0',
          namespace: 'demo',
          podIp: '127.0.0.1',
          serviceAccount: 'web',
          interceptionMode: 'NONE',
          discovery: { host: '127.0.0.1', port: xdsPort },
          sdsSocket: join(dir, 'sds.sock'),
          admin: { address: '127.0.0.1', port: await freePort() },
          statsPort: null,
          readinessPort: null,
        },
        bootstrapPath: join(dir, 'envoy.json'),
        proxyCommand: join(root, 'bin/skein-proxy'),
        proxyArgs: [],
        ca: { address: `127.0.0.1:${ca.port}`, rootCertPem: ca.rootCertPem, token: 'tok', ttlSeconds: 3600 },
        xdsRelay: { socketPath: join(dir, 'XDS'), upstream: `127.0.0.1:${xdsPort}`, tls: false },
        status: { host: '127.0.0.1', port: 0 },
        drainDurationMs: 10_000,
        exitOnZeroActiveConnections: true,
        log: (m) => logs.push(m),
      });
      const ready = await waitForReady({
        url: `http://127.0.0.1:${agent.statusPort}/healthz/ready`,
        timeoutMs: 30_000,
        periodMs: 100,
      });
      expect(ready, logs.join('\n')).toBe(true);
      const metrics = await (await fetch(`http://127.0.0.1:${agent.statusPort}/stats/prometheus`)).text();
      expect(metrics).toContain('skein_agent_cert_expiry_seconds');
      await agent.terminate();
      expect(await agent.done).toBe(0);
    }, 60_000);
  },
);
