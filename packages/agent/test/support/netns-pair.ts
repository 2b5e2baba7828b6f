// Two network namespaces joined by a veth pair — a "pod" and a "remote" peer — for the iptables
// tests: loopback up, IPv4 and IPv6 addresses on each end, the pod's default route via the remote.
import { processRunner } from '../../src/iptables/command-runner.js';

const host = processRunner();

/** Runs a command on the host, failing with its stderr. */
export async function sh(cmd: string, ...args: string[]): Promise<string> {
  const r = await host.run(cmd, args);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

export interface NetnsPair {
  readonly pod: string;
  readonly remote: string;
  /** veth end names (each at most 15 characters) */
  readonly podDev: string;
  readonly remoteDev: string;
  /** CIDR addresses; IPv6 ones are added without duplicate address detection */
  readonly podAddrs: readonly string[];
  readonly remoteAddrs: readonly string[];
  /** The remote's IPv4 address the pod routes through. */
  readonly gateway: string;
}

export async function createNetnsPair(p: NetnsPair): Promise<void> {
  await sh('ip', 'netns', 'add', p.pod);
  await sh('ip', 'netns', 'add', p.remote);
  await sh('ip', 'link', 'add', p.podDev, 'type', 'veth', 'peer', 'name', p.remoteDev);
  await sh('ip', 'link', 'set', p.podDev, 'netns', p.pod);
  await sh('ip', 'link', 'set', p.remoteDev, 'netns', p.remote);
  for (const [ns, dev, addrs] of [
    [p.pod, p.podDev, p.podAddrs],
    [p.remote, p.remoteDev, p.remoteAddrs],
  ] as const) {
    await sh('ip', 'netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
    for (const a of addrs)
      await sh(
        'ip',
        'netns',
        'exec',
        ns,
        'ip',
        'addr',
        'add',
        a,
        'dev',
        dev,
        ...(a.includes(':') ? ['nodad'] : []),
      );
    await sh('ip', 'netns', 'exec', ns, 'ip', 'link', 'set', dev, 'up');
  }
  await sh('ip', 'netns', 'exec', p.pod, 'ip', 'route', 'add', 'default', 'via', p.gateway);
}

/** Deletes both namespaces (the veth pair goes with them); never throws. */
export async function deleteNetnsPair(p: Pick<NetnsPair, 'pod' | 'remote'>): Promise<void> {
  await host.run('ip', ['netns', 'del', p.pod]);
  await host.run('ip', ['netns', 'del', p.remote]);
}
