// Installing and removing the rules with the real iptables tools: cleanup first (so re-running is
// idempotent), then iptables-restore --noflush; IPv6 only where the kernel and ip6tables have nat.
import { CHAINS, iptablesSave, type Family } from './iptables-rules.js';
import type { IptablesConfig } from './iptables-config.js';

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

/** Removes every rule and chain we installed (safe to run when none are there). */
export async function cleanupIptables(run: CommandRunner, family: Family): Promise<void> {
  const ipt = tool(family, 'iptables');
  for (const chain of ['PREROUTING', 'OUTPUT']) {
    const listed = await run.run(ipt, ['-t', 'nat', '-S', chain]);
    for (const line of listed.stdout.split('\n')) {
      if (!line.startsWith('-A ') || !/--comment "?skein"?( |$)/.test(line)) continue;
      const args = line.replace(/"skein"/, 'skein').split(' ');
      args[0] = '-D';
      await run.run(ipt, ['-t', 'nat', ...args]);
    }
  }
  for (const ch of CHAINS) await run.run(ipt, ['-t', 'nat', '-F', ch]);
  for (const ch of CHAINS) await run.run(ipt, ['-t', 'nat', '-X', ch]);
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
    await cleanupIptables(run, f);
    const r = await run.run(tool(f, 'iptables-restore'), ['--noflush'], iptablesSave(c, f));
    if (r.code !== 0) throw new Error(`${tool(f, 'iptables-restore')} failed: ${r.stderr.trim()}`);
    done.push(f);
  }
  return done;
}
