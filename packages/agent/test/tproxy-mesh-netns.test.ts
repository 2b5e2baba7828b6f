// TPROXY interception end to end, in real network namespaces made here (10.216.0.0/24): the
// agent's `-m TPROXY` rule set in a "pod" namespace, the real skeind (root namespace, loopback)
// serving a sidecar with INTERCEPTION_MODE TPROXY (transparent capture listeners, the original_src
// listener filter with mark 1337, as Istio's), and the real skein-proxy in the pod namespace under
// skein-agent (xDS through the agent's relay socket, certificates over SDS), running as root with
// group 1337 as Istio's injector runs it in TPROXY mode. A client in the "remote" namespace reaches
// the app through the sidecar's inbound path and the app sees the client's own address; the app
// reaches a server in the remote namespace through the sidecar's outbound path.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type RunningCa } from '@skein/ca';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyIptables } from '../src/iptables/apply-iptables.js';
import { processRunner } from '../src/iptables/command-runner.js';
import { DEFAULT_IPTABLES_CONFIG } from '../src/iptables/iptables-config.js';
import { runAgent, type RunningAgent } from '../src/lifecycle/run-agent.js';
import { createNetnsPair, deleteNetnsPair, sh } from './support/netns-pair.js';
import { startTestCa } from './support/test-ca.js';
import { startSkeind, type SkeindProcess } from './support/processes.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const proxyMain = join(root, 'packages/proxy/dist/main.js');
const missing = [
  proxyMain,
  join(root, 'packages/control-plane/dist/main.js'),
  join(root, 'packages/proxy/dist/native/transparent-socket.node'),
].filter((f) => !existsSync(f));
const isRoot = process.getuid?.() === 0;
const id = randomBytes(3).toString('hex');
const PAIR = {
  pod: `skein-mp-${id}`,
  remote: `skein-mr-${id}`,
  podDev: `mp${id}`,
  remoteDev: `mr${id}`,
  podAddrs: ['10.216.0.1/24'],
  remoteAddrs: ['10.216.0.2/24'],
  gateway: '10.216.0.2',
};
const POD_IP = '10.216.0.1';
const REMOTE_IP = '10.216.0.2';
const ADMIN = 15000;

const CONFIG = `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: echo, namespace: demo }
spec:
  hosts: [echo.demo.svc.cluster.local]
  ports: [{ number: 8080, name: tcp-echo }, { number: 8081, name: http-echo }]
  location: MESH_INTERNAL
  resolution: STATIC
  workloadSelector: { labels: { app: echo } }
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: { name: echo, namespace: demo }
spec: { address: ${POD_IP}, serviceAccount: echo, labels: { app: echo } }
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: remote, namespace: demo }
spec:
  hosts: [remote.demo.example]
  addresses: [${REMOTE_IP}]
  ports: [{ number: 9000, name: tcp-remote }]
  location: MESH_EXTERNAL
  resolution: STATIC
  endpoints: [{ address: ${REMOTE_IP} }]
`;

/** A TCP server answering each connection with the address it sees the peer at. */
const PEER_SERVER = `require('node:net').createServer((s) => s.end('peer=' + s.remoteAddress.replace(/^::ffff:/, '') + '\\n'))
  .listen(Number(process.argv[1]), '0.0.0.0', () => console.log('ready'));`;
/** An HTTP server answering each request with the address it sees the peer at. */
const HTTP_PEER_SERVER = `require('node:http').createServer((q, s) => s.end('peer=' + q.socket.remoteAddress.replace(/^::ffff:/, '')))
  .listen(Number(process.argv[1]), '0.0.0.0', () => console.log('ready'));`;
/** One HTTP request (a new connection each): prints the answer, or the error. */
const GET = `fetch(process.argv[1], { signal: AbortSignal.timeout(3000) }).then(async (r) => console.log(r.status + ' ' + (await r.text())), (e) => console.log('error=' + e.message));`;
/** One connection: prints what the server answered, or the error. */
const CALL = `const s = require('node:net').connect(Number(process.argv[2]), process.argv[1]);
let out = ''; s.on('data', (d) => (out += d)); s.on('end', () => console.log(out.trim()));
s.on('error', (e) => console.log('error=' + e.code)); s.setTimeout(3000, () => { console.log('error=timeout'); s.destroy(); });`;

/** Runs `node -e script` in a namespace as the unprivileged app user (uid/gid 65534). */
const asApp = (ns: string, script: string, ...args: string[]): string[] => [
  'netns',
  'exec',
  ns,
  'setpriv',
  '--reuid',
  '65534',
  '--regid',
  '65534',
  '--clear-groups',
  process.execPath,
  '-e',
  script,
  ...args,
];

function startServer(ns: string, port: number, script = PEER_SERVER): Promise<ChildProcess> {
  const p = spawn('ip', asApp(ns, script, String(port)), { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    p.stdout!.once('data', (d: Buffer) =>
      d.toString().startsWith('ready') ? resolve(p) : reject(new Error(d.toString())),
    );
    p.once('exit', (code) => reject(new Error(`server exited ${code}`)));
  });
}

const call = async (ns: string, host: string, port: number): Promise<string> =>
  (await sh('ip', ...asApp(ns, CALL, host, String(port)))).trim();

/** The proxy's admin, from inside the pod namespace. */
const admin = async (path: string): Promise<string> =>
  sh('ip', 'netns', 'exec', PAIR.pod, 'curl', '-s', '--max-time', '2', `http://127.0.0.1:${ADMIN}${path}`);
const counter = async (name: string): Promise<number> => {
  const line = (await admin('/stats')).split('\n').find((l) => l.startsWith(`${name}: `));
  return line ? Number(line.slice(name.length + 2)) : 0;
};

// Needs root (namespaces, iptables, policy routes) and the built proxy (with its addon) and skeind.
describe.skipIf(!isRoot || missing.length > 0)(
  `TPROXY end to end: agent rules + skeind + skein-proxy${!isRoot ? ' (needs root)' : missing.length ? ` (not built: ${missing.join(', ')})` : ''}`,
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'skein-tproxy-mesh-'));
    const children: ChildProcess[] = [];
    let skeind: SkeindProcess;
    let ca: RunningCa;
    let agent: RunningAgent | undefined;
    const logs: string[] = [];

    beforeAll(async () => {
      await createNetnsPair(PAIR);
      const inPod = processRunner(['ip', 'netns', 'exec', PAIR.pod]);
      expect(await applyIptables(inPod, { ...DEFAULT_IPTABLES_CONFIG, mode: 'TPROXY' }, [4])).toEqual([4]);
      children.push(
        await startServer(PAIR.pod, 8080),
        await startServer(PAIR.pod, 8081, HTTP_PEER_SERVER),
        await startServer(PAIR.remote, 9000),
      );

      writeFileSync(join(dir, 'mesh.yaml'), CONFIG);
      skeind = await startSkeind(dir);
      const xdsPort = skeind.xdsPort;
      ({ ca } = await startTestCa('tok demo echo\n'));
      agent = await runAgent({
        bootstrap: {
          podName: 'echo-0',
          namespace: 'demo',
          podIp: POD_IP,
          serviceAccount: 'echo',
          labels: { app: 'echo' },
          interceptionMode: 'TPROXY',
          discovery: { host: '127.0.0.1', port: xdsPort },
          sdsSocket: join(dir, 'sds.sock'),
          admin: { address: '127.0.0.1', port: ADMIN },
          statsPort: null,
          readinessPort: null,
        },
        bootstrapPath: join(dir, 'envoy.json'),
        // The proxy in the pod's namespace, as root with group 1337 (Istio's TPROXY sidecar):
        // transparent sockets need CAP_NET_ADMIN, and the capture rules let group 1337 out.
        proxyCommand: 'ip',
        proxyArgs: [
          'netns',
          'exec',
          PAIR.pod,
          'setpriv',
          '--regid',
          '1337',
          '--clear-groups',
          process.execPath,
          proxyMain,
        ],
        ca: { address: `127.0.0.1:${ca.port}`, rootCertPem: ca.rootCertPem, token: 'tok', ttlSeconds: 3600 },
        xdsRelay: { socketPath: join(dir, 'XDS'), upstream: `127.0.0.1:${xdsPort}`, tls: false },
        status: { host: '127.0.0.1', port: 0 },
        drainDurationMs: 1000,
        exitOnZeroActiveConnections: true,
        log: (m) => logs.push(m),
      });
      // The proxy has its listeners once the 15006 one shows up in its config dump.
      const deadline = Date.now() + 30_000;
      while (
        !(await admin('/config_dump').catch(() => '')).includes('"virtualInbound"') &&
        Date.now() < deadline
      )
        await new Promise((r) => setTimeout(r, 200));
    }, 90_000);

    afterAll(async () => {
      if (agent) {
        await agent.terminate();
        await agent.done;
      }
      await ca?.close();
      await skeind?.stop();
      for (const c of children) c.kill('SIGKILL');
      await deleteNetnsPair(PAIR);
      rmSync(dir, { recursive: true, force: true });
    }, 30_000);

    it('skeind gives the TPROXY sidecar transparent capture listeners and original_src', async () => {
      const dump = await admin('/config_dump');
      expect(dump, logs.join('\n')).toContain('"virtualInbound"');
      // Envoy's field names (snake_case), as Envoy prints its config dump.
      type State = { listener?: Record<string, unknown> };
      const listeners = (
        JSON.parse(dump) as { configs: { dynamic_listeners?: { active_state?: State }[] }[] }
      ).configs
        .flatMap((c) => c.dynamic_listeners ?? [])
        .map((l) => l.active_state?.listener ?? {});
      const inbound = listeners.find((l) => l['name'] === 'virtualInbound');
      expect(inbound, JSON.stringify(listeners.map((l) => l['name']))).toBeDefined();
      expect(inbound!['transparent']).toBe(true);
      expect(JSON.stringify(inbound!['listener_filters'])).toContain('"mark":1337');
      expect(listeners.find((l) => l['name'] === 'virtualOutbound')!['transparent']).toBe(true);
    });

    it('inbound: a client in another namespace reaches the app through the sidecar, and the app sees its real address', async () => {
      const before = await counter('cluster.inbound|8080||.upstream_cx_total');
      expect(await call(PAIR.remote, POD_IP, 8080)).toBe(`peer=${REMOTE_IP}`);
      expect(await call(PAIR.remote, POD_IP, 8080)).toBe(`peer=${REMOTE_IP}`);
      // Through the proxy (not around it): its inbound cluster opened the two upstream connections.
      expect(await counter('cluster.inbound|8080||.upstream_cx_total')).toBe(before + 2);
      expect(logs.join('\n')).not.toContain('original source');
    });

    it('inbound HTTP: the app sees the real client address too (a pool per client address)', async () => {
      const before = await counter('cluster.inbound|8081||.upstream_rq_total');
      const get = async () => (await sh('ip', ...asApp(PAIR.remote, GET, `http://${POD_IP}:8081/`))).trim();
      expect(await get()).toBe(`200 peer=${REMOTE_IP}`);
      expect(await get()).toBe(`200 peer=${REMOTE_IP}`);
      expect(await counter('cluster.inbound|8081||.upstream_rq_total')).toBe(before + 2);
    });

    it('outbound: the app reaches the remote server through the sidecar', async () => {
      const stat = 'cluster.outbound|9000||remote.demo.example.upstream_cx_total';
      const before = await counter(stat);
      expect(await call(PAIR.pod, REMOTE_IP, 9000)).toBe(`peer=${POD_IP}`);
      expect(await counter(stat)).toBe(before + 1);
    });
  },
);
