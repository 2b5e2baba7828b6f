// Rewritten app probes under the real capture rules: a "pod" network namespace with skein-agent's
// REDIRECT rules, the app (HTTP, TCP, gRPC health) on the pod IP and a stand-in for the sidecar's
// inbound listener on 15006 that refuses plaintext as STRICT mTLS does. The agent probes as UID
// 1337: from 127.0.0.6 every probe reaches the app and nothing lands on 15006; unbound, the gRPC
// probe is redirected to 15006 and fails (what the source address fixes). 10.214.0.0/24 exists
// only inside the namespaces made here.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyIptables } from '../src/iptables/apply-iptables.js';
import { processRunner } from '../src/iptables/command-runner.js';
import { DEFAULT_IPTABLES_CONFIG } from '../src/iptables/iptables-config.js';
import type { AppProbe, ProbeResult } from '../src/status/app-probes.js';
import { createNetnsPair, deleteNetnsPair, sh } from './support/netns-pair.js';

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const isRoot = process.getuid?.() === 0;
const id = randomBytes(3).toString('hex');
const POD_IP = '10.214.0.1';
const PAIR = {
  pod: `skein-pp-${id}`,
  remote: `skein-pr-${id}`,
  podDev: `vpp${id}`,
  remoteDev: `vpr${id}`,
  podAddrs: [`${POD_IP}/24`],
  remoteAddrs: ['10.214.0.2/24'],
  gateway: '10.214.0.2',
};

/** Runs one probe with the agent's code inside the pod namespace as UID/GID 1337 (the agent's user). */
async function probeAsAgent(probe: AppProbe, source: string | 'none'): Promise<ProbeResult> {
  const out = await sh(
    'ip',
    'netns',
    'exec',
    PAIR.pod,
    'setpriv',
    '--reuid=1337',
    '--regid=1337',
    '--clear-groups',
    process.execPath,
    fixture('run-probe.mjs'),
    JSON.stringify(probe),
    POD_IP,
    source,
  );
  return JSON.parse(out) as ProbeResult;
}

/** Polls `check` until it holds (the condition is the synchronisation, not the delay). */
async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe.skipIf(!isRoot)('app probes through the capture rules (network namespaces)', () => {
  let app: ChildProcess | undefined;
  let captured = 0;

  beforeAll(async () => {
    await createNetnsPair(PAIR);
    expect(
      await applyIptables(processRunner(['ip', 'netns', 'exec', PAIR.pod]), DEFAULT_IPTABLES_CONFIG, [4]),
    ).toEqual([4]);
    const child = spawn('ip', ['netns', 'exec', PAIR.pod, process.execPath, fixture('probe-app.mjs')], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    app = child;
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => {
        for (const line of d.toString().split('\n')) {
          if (line === 'ready') resolve();
          if (line === 'captured') captured++;
        }
      });
      child.once('exit', (code) => reject(new Error(`probe app exited ${code}`)));
    });
  }, 30_000);

  afterAll(async () => {
    app?.kill('SIGKILL');
    await deleteNetnsPair(PAIR);
  });

  it('reaches the app from 127.0.0.6 with HTTP, TCP and gRPC probes, none captured', async () => {
    const before = captured;
    expect(await probeAsAgent({ httpGet: { path: '/ready', port: 8080 } }, '127.0.0.6')).toMatchObject({
      ok: true,
      detail: 'HTTP 200',
    });
    expect(await probeAsAgent({ tcpSocket: { port: 9090 } }, '127.0.0.6')).toMatchObject({ ok: true });
    expect(await probeAsAgent({ grpc: { port: 7070 } }, '127.0.0.6')).toEqual({
      ok: true,
      status: 200,
      detail: 'SERVING',
    });
    // a NOT_SERVING service fails the probe with the app's own answer, not a capture error
    expect(await probeAsAgent({ grpc: { port: 7070, service: 'sick' } }, '127.0.0.6')).toEqual({
      ok: false,
      status: 503,
      detail: 'status 2',
    });
    // The app's stdout is ordered: a sentinel probe that IS captured (unbound, below) arrives after
    // any capture the probes above caused, so exactly one capture means none of them was captured.
    expect((await probeAsAgent({ grpc: { port: 7070 } }, 'none')).ok).toBe(false);
    await until('the sentinel capture', () => captured > before);
    expect(captured).toBe(before + 1);
  });

  it('without the source address, a gRPC probe from UID 1337 is captured into 15006 and fails', async () => {
    const before = captured;
    const r = await probeAsAgent({ grpc: { port: 7070 } }, 'none');
    expect(r.ok).toBe(false);
    await until('the probe to land on 15006', () => captured > before);
  });
});
