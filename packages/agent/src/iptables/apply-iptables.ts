// Installing and removing the rules with the real iptables tools: cleanup first (so re-running is
// idempotent), then iptables-restore --noflush (and, in TPROXY mode, the policy route with `ip`);
// IPv6 only where the kernel and ip6tables have nat.
import { CHAINS, MANGLE_CHAINS, iptablesSave, policyRoutes, type Family } from './iptables-rules.js';
import { DEFAULT_IPTABLES_CONFIG, type IptablesConfig } from './iptables-config.js';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command (in tests: inside `ip netns exec <ns>`). */
export interface CommandRunner {
  run(cmd: string, args: string[], input?: string): Promise<CommandResult>;
}

const tool = (family: Family, name: 'iptables' | 'iptables-restore') =>
  family === 4 ? name : name === 'iptables' ? 'ip6tables' : 'ip6tables-restore';

/** Whether this family's nat table is usable here. */
export async function familyAvailable(run: CommandRunner, family: Family): Promise<boolean> {
  const r = await run.run(tool(family, 'iptables'), ['-t', 'nat', '-S', 'OUTPUT']);
  return r.code === 0;
}

/**
 * Removes every rule and chain we installed, in the nat and mangle tables, and the TPROXY policy
 * route (`mark` / `table` of the config; Istio's defaults otherwise). Safe when none are there.
 */
export async function cleanupIptables(
  run: CommandRunner,
  family: Family,
  c: Pick<IptablesConfig, 'inboundTproxyMark' | 'inboundTproxyRouteTable'> = DEFAULT_IPTABLES_CONFIG,
): Promise<void> {
  const ipt = tool(family, 'iptables');
  for (const [table, chains] of [
    ['nat', CHAINS],
    ['mangle', MANGLE_CHAINS],
  ] as const) {
    for (const chain of ['PREROUTING', 'OUTPUT']) {
      const listed = await run.run(ipt, ['-t', table, '-S', chain]);
      for (const line of listed.stdout.split('\n')) {
        if (!line.startsWith('-A ') || !/--comment "?skein"?( |$)/.test(line)) continue;
        const args = line.replace(/"skein"/, 'skein').split(' ');
        args[0] = '-D';
        await run.run(ipt, ['-t', table, ...args]);
      }
    }
    for (const ch of chains) await run.run(ipt, ['-t', table, '-F', ch]);
    for (const ch of chains) await run.run(ipt, ['-t', table, '-X', ch]);
  }
  const ip = family === 4 ? '-4' : '-6';
  const rule = [
    ip,
    'rule',
    'del',
    'fwmark',
    String(c.inboundTproxyMark),
    'lookup',
    String(c.inboundTproxyRouteTable),
  ];
  // One `ip rule del` removes one copy; stop when none is left.
  for (let i = 0; i < 16 && (await run.run('ip', rule)).code === 0; i++);
  await run.run('ip', [ip, 'route', 'flush', 'table', String(c.inboundTproxyRouteTable)]);
}

/** Installs the rules for each available family; returns the families configured. */
export async function applyIptables(
  run: CommandRunner,
  c: IptablesConfig,
  families: Family[] = [4, 6],
): Promise<Family[]> {
  const done: Family[] = [];
  for (const f of families) {
    if (!(await familyAvailable(run, f))) {
      if (f === 4) throw new Error('iptables nat table is not available');
      continue;
    }
    await cleanupIptables(run, f, c);
    const r = await run.run(tool(f, 'iptables-restore'), ['--noflush'], iptablesSave(c, f));
    if (r.code !== 0) throw new Error(`${tool(f, 'iptables-restore')} failed: ${r.stderr.trim()}`);
    for (const args of policyRoutes(c, f)) {
      const ip = await run.run('ip', args);
      if (ip.code !== 0) throw new Error(`ip ${args.join(' ')} failed: ${ip.stderr.trim()}`);
    }
    done.push(f);
  }
  return done;
}
