// skein-agent's iptables rules in real network namespaces: a "pod" namespace with the rules and a
// "remote" namespace joined by a veth pair (10.213.0.0/24, only inside the namespaces made here).
// A Python probe reads SO_ORIGINAL_DST, proving the original destination is recoverable.
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyIptables, cleanupIptables } from '../src/iptables/apply-iptables.js';
import { processRunner } from '../src/iptables/command-runner.js';
import { createNetnsPair, deleteNetnsPair } from './support/netns-pair.js';
import { probeConnect, probeUdpSend, startProbe, type ProbeMode } from './support/netns-probe.js';
import { DEFAULT_IPTABLES_CONFIG, type IptablesConfig } from '../src/iptables/iptables-config.js';

const isRoot = process.getuid?.() === 0;
const id = randomBytes(3).toString('hex');
const POD = `skein-p-${id}`;
const REMOTE = `skein-r-${id}`;
const PAIR = {
  pod: POD,
  remote: REMOTE,
  podDev: `vp${id}`,
  remoteDev: `vr${id}`,
  podAddrs: ['10.213.0.1/24', 'fd00:213::1/64'],
  remoteAddrs: ['10.213.0.2/24', '10.213.0.3/24', 'fd00:213::2/64'],
  gateway: '10.213.0.2',
};

const startListener = (ns: string, ports: number[], mode: ProbeMode = 'listen') =>
  startProbe(ns, mode, ports);
const connect = (ns: string, dst: string, port: number, uid?: number, gid?: number, src?: string) =>
  probeConnect(ns, dst, port, { uid, gid, src });

const APP = 65534; // nobody
const config: IptablesConfig = {
  ...DEFAULT_IPTABLES_CONFIG,
  excludeOutboundCidrs: ['10.213.0.3/32'],
  excludeOutboundPorts: ['9001'],
  captureDns: true,
  dnsServers: ['10.213.0.2'],
};

// Needs root (namespaces, iptables); the CI and developer machines run as root.
describe.skipIf(!isRoot)('iptables in network namespaces', () => {
  const listeners: ChildProcess[] = [];
  const inPod = processRunner(['ip', 'netns', 'exec', POD]);

  beforeAll(async () => {
    await createNetnsPair(PAIR);
    listeners.push(await startListener(POD, [15001, 15006, 8080, 15021, 15053]));
    listeners.push(await startListener(REMOTE, [9000, 9001, 80]));
    listeners.push(await startListener(POD, [15053], 'udplisten'));
    listeners.push(await startListener(REMOTE, [53], 'udplisten'));
    expect(await applyIptables(inPod, config, [4, 6])).toEqual([4, 6]);
  });

  afterAll(async () => {
    for (const l of listeners) l.kill('SIGKILL');
    await deleteNetnsPair(PAIR);
  });

  it('sends app outbound traffic to 15001 with the original destination recoverable', async () => {
    expect(await connect(POD, '10.213.0.2', 9000, APP)).toEqual({ port: 15001, orig: '10.213.0.2:9000' });
  });

  it('lets UID 1337 and GID 1337 bypass the capture', async () => {
    expect((await connect(POD, '10.213.0.2', 9000, 1337, 1337)).port).toBe(9000);
    expect((await connect(POD, '10.213.0.2', 9000, APP, 1337)).port).toBe(9000);
  });

  it('lets excluded outbound ports and ranges bypass', async () => {
    expect((await connect(POD, '10.213.0.2', 9001, APP)).port).toBe(9001);
    expect((await connect(POD, '10.213.0.3', 9000, APP)).port).toBe(9000);
  });

  it('sends inbound traffic to 15006, except the excluded status ports', async () => {
    expect(await connect(REMOTE, '10.213.0.1', 8080)).toEqual({ port: 15006, orig: '10.213.0.1:8080' });
    expect((await connect(REMOTE, '10.213.0.1', 15021)).port).toBe(15021);
  });

  it('handles a pod calling itself through a service address', async () => {
    // The app calls a service VIP: captured outbound.
    expect(await connect(POD, '10.96.0.10', 80, APP)).toEqual({ port: 15001, orig: '10.96.0.10:80' });
    // The proxy (1337) forwards to its own pod IP: over lo, into the inbound capture.
    expect(await connect(POD, '10.213.0.1', 8080, 1337)).toEqual({ port: 15006, orig: '10.213.0.1:8080' });
    // Inbound passthrough from 127.0.0.6 reaches the app directly.
    expect((await connect(POD, '10.213.0.1', 8080, 1337, 1337, '127.0.0.6')).port).toBe(8080);
    // App-to-app on loopback is left alone.
    expect((await connect(POD, '127.0.0.1', 8080, APP)).port).toBe(8080);
  });

  it("captures the pod's DNS to the agent (15053), except the proxy's own queries", async () => {
    const udp = (uid: number, gid: number) => probeUdpSend(POD, '10.213.0.2', 53, uid, gid);
    expect((await udp(APP, APP)).port).toBe(15053);
    expect((await udp(1337, 1337)).port).toBe(53);
    // TCP DNS to the resolver is captured too.
    expect(await connect(POD, '10.213.0.2', 53, APP)).toEqual({ port: 15053, orig: '10.213.0.2:53' });
  });

  it('captures IPv6 the same way (ip6tables)', async () => {
    expect(await connect(POD, 'fd00:213::2', 9000, APP)).toEqual({ port: 15001, orig: '[fd00:213::2]:9000' });
    expect((await connect(POD, 'fd00:213::2', 9000, 1337, 1337)).port).toBe(9000);
    expect(await connect(REMOTE, 'fd00:213::1', 8080)).toEqual({ port: 15006, orig: '[fd00:213::1]:8080' });
    expect((await connect(REMOTE, 'fd00:213::1', 15021)).port).toBe(15021);
  });

  it('re-applies idempotently and cleans up completely', async () => {
    const save = async () => (await inPod.run('iptables-save', ['-t', 'nat'])).stdout;
    const once = await save();
    await applyIptables(inPod, config, [4]);
    const twice = await save();
    const rules = (s: string) =>
      s
        .split('\n')
        .filter((l) => l.startsWith('-A'))
        .sort();
    expect(rules(twice)).toEqual(rules(once));
    expect(
      rules(once).filter((l) => l.includes('ISTIO_REDIRECT') && l.startsWith('-A ISTIO_REDIRECT')),
    ).toHaveLength(1);
    await cleanupIptables(inPod, 4);
    expect(await save()).not.toMatch(/ISTIO|skein/);
    expect((await connect(POD, '10.213.0.2', 9000, APP)).port).toBe(9000);
    await applyIptables(inPod, config, [4]);
    expect((await connect(POD, '10.213.0.2', 9000, APP)).port).toBe(15001);
  });
  it("treats a KubeVirt interface's inbound traffic as outbound (-k) and leaves an excluded one alone (-c)", async () => {
    const reapply = async (c: IptablesConfig) => {
      await cleanupIptables(inPod, 4);
      await applyIptables(inPod, c, [4]);
    };
    try {
      await reapply({ ...config, kubeVirtInterfaces: [PAIR.podDev] });
      // What arrives on the VM's interface goes to the outbound capture port, not inbound.
      expect(await connect(REMOTE, '10.213.0.1', 8080)).toEqual({ port: 15001, orig: '10.213.0.1:8080' });
      await reapply({ ...config, excludeInterfaces: [PAIR.podDev] });
      // Nothing in or out over an excluded interface is captured.
      expect((await connect(REMOTE, '10.213.0.1', 8080)).port).toBe(8080);
      expect((await connect(POD, '10.213.0.2', 9000, APP)).port).toBe(9000);
      // Loopback traffic (another interface) still is: the proxy's call to its own pod IP.
      expect((await connect(POD, '10.213.0.1', 8080, 1337)).port).toBe(15006);
    } finally {
      await reapply(config);
    }
    expect((await connect(REMOTE, '10.213.0.1', 8080)).port).toBe(15006);
  });
});
