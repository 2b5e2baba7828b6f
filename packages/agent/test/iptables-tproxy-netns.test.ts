// `skein-agent iptables -m TPROXY` in real network namespaces: a "pod" namespace with the rules and
// a "remote" one joined by a veth pair (10.214.0.0/24 and fd00:214::/64, only inside the namespaces
// made here). Inbound lands on the transparent (IP_TRANSPARENT) listener on 15006 without NAT: the
// original destination is the connection's own local address and the client's source address is
// kept. Outbound stays REDIRECT to 15001; the proxy's calls to its own pod IP, 127.0.0.6
// passthrough and app-to-app loopback behave as in REDIRECT mode. Re-applying is idempotent and
// --cleanup removes the mangle rules and the policy route too.
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyIptables, cleanupIptables } from '../src/iptables/apply-iptables.js';
import { processRunner } from '../src/iptables/command-runner.js';
import { createNetnsPair, deleteNetnsPair } from './support/netns-pair.js';
import { probeConnect, startProbe, type ProbeMode } from './support/netns-probe.js';
import { DEFAULT_IPTABLES_CONFIG, type IptablesConfig } from '../src/iptables/iptables-config.js';

const isRoot = process.getuid?.() === 0;
const id = randomBytes(3).toString('hex');
const POD = `skein-tp-${id}`;
const REMOTE = `skein-tr-${id}`;
const PAIR = {
  pod: POD,
  remote: REMOTE,
  podDev: `tp${id}`,
  remoteDev: `tr${id}`,
  podAddrs: ['10.214.0.1/24', 'fd00:214::1/64'],
  remoteAddrs: ['10.214.0.2/24', 'fd00:214::2/64'],
  gateway: '10.214.0.2',
};
const APP = 65534; // nobody

const startListener = (ns: string, mode: ProbeMode, ports: number[]) => startProbe(ns, mode, ports);
const connect = (ns: string, dst: string, port: number, uid?: number, src?: string) =>
  probeConnect(ns, dst, port, { uid, src });

const config: IptablesConfig = { ...DEFAULT_IPTABLES_CONFIG, mode: 'TPROXY' };

// Needs root (namespaces, iptables, ip rule); the CI and developer machines run as root.
describe.skipIf(!isRoot)('iptables TPROXY mode in network namespaces', () => {
  const listeners: ChildProcess[] = [];
  const inPod = processRunner(['ip', 'netns', 'exec', POD]);

  beforeAll(async () => {
    await createNetnsPair(PAIR);
    listeners.push(await startListener(POD, 'tlisten', [15006]));
    listeners.push(await startListener(POD, 'listen', [15001, 8080, 15021]));
    listeners.push(await startListener(REMOTE, 'listen', [9000]));
    expect(await applyIptables(inPod, config, [4, 6])).toEqual([4, 6]);
  });

  afterAll(async () => {
    for (const l of listeners) l.kill('SIGKILL');
    await deleteNetnsPair(PAIR);
  });

  it('diverts inbound to the transparent 15006 listener: original destination and source kept, no NAT', async () => {
    // The accepted socket's own local address is the original destination (REDIRECT would show
    // :15006 there); SO_ORIGINAL_DST, read from conntrack, agrees.
    expect(await connect(REMOTE, '10.214.0.1', 8080)).toEqual({
      port: 15006,
      orig: '10.214.0.1:8080',
      local: '10.214.0.1:8080',
      peer: '10.214.0.2',
    });
    expect(await connect(REMOTE, 'fd00:214::1', 8080)).toEqual({
      port: 15006,
      orig: '[fd00:214::1]:8080',
      local: '[fd00:214::1]:8080',
      peer: 'fd00:214::2',
    });
  });

  it('lets excluded inbound ports through to the app', async () => {
    expect((await connect(REMOTE, '10.214.0.1', 15021)).port).toBe(15021);
  });

  it('still REDIRECTs outbound to 15001; UID 1337 bypasses', async () => {
    expect(await connect(POD, '10.214.0.2', 9000, APP)).toEqual({ port: 15001, orig: '10.214.0.2:9000' });
    expect((await connect(POD, '10.214.0.2', 9000, 1337)).port).toBe(9000);
  });

  it('handles the pod calling itself, 127.0.0.6 passthrough and app loopback', async () => {
    expect(await connect(POD, '10.96.0.10', 80, APP)).toEqual({ port: 15001, orig: '10.96.0.10:80' });
    // The proxy forwarding to its own pod IP comes back in through the inbound capture.
    expect(await connect(POD, '10.214.0.1', 8080, 1337)).toMatchObject({
      port: 15006,
      orig: '10.214.0.1:8080',
    });
    // Inbound passthrough from 127.0.0.6 reaches the app; so does the app calling its own pod IP.
    expect((await connect(POD, '10.214.0.1', 8080, 1337, '127.0.0.6')).port).toBe(8080);
    expect((await connect(POD, '10.214.0.1', 8080, APP)).port).toBe(8080);
  });

  it('re-applies idempotently and cleans up the mangle rules and the policy route', async () => {
    const state = async () => ({
      mangle: (await inPod.run('iptables-save', ['-t', 'mangle'])).stdout
        .split('\n')
        .filter((l) => l.startsWith('-A'))
        .sort(),
      rules: (await inPod.run('ip', ['-4', 'rule'])).stdout
        .split('\n')
        .filter((l) => l.includes('lookup 133')),
      route: (await inPod.run('ip', ['-4', 'route', 'show', 'table', '133'])).stdout.trim(),
    });
    const once = await state();
    expect(once.rules).toHaveLength(1);
    expect(once.route).toContain('local default dev lo');
    await applyIptables(inPod, config, [4]);
    expect(await state()).toEqual(once);

    await cleanupIptables(inPod, 4, config);
    const after = await state();
    expect(after.mangle.filter((l) => /ISTIO|skein/.test(l))).toEqual([]);
    expect(after.rules).toEqual([]);
    expect(after.route).toBe('');
    expect((await connect(REMOTE, '10.214.0.1', 8080)).port).toBe(8080);
  });
});
