// The README's first command in its short form: a real grayscale release through skeind and
// skein-proxy processes on loopback. Checks the demo's own verdicts (split within tolerance at
// each step, the header route, the fault rate and its metric, every request mutual TLS, zero
// unexpected failures) and that it leaves no process or file behind.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const bin = join(import.meta.dirname, '../../../bin/skeinctl');

function run(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    p.on('exit', (code) => resolve({ code, out }));
  });
}

/** The demo's temporary directory, from the path it prints. */
const dirOf = (out: string) => /(skein-demo-[A-Za-z0-9]+)\/config/.exec(out)?.[1] ?? 'no-demo-dir-printed';

/**
 * Processes still running that belong to one demo run: its loopback addresses (127.0.<base>.x)
 * or its temporary directory on their command line. Other runs (other engineers, other bases)
 * do not count.
 */
function leftovers(base: number, dir: string): string[] {
  const procs: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(`127.0.${base}.`) || cmd.includes(dir)) procs.push(`${entry}: ${cmd}`);
    } catch {
      // gone
    }
  }
  return procs;
}

// Loopback addresses 127.0.<base>.x per run, varied by process so that runs in several work
// trees on one machine do not collide.
const base = 20 + (process.pid % 100) * 2;

describe('skeinctl demo', () => {
  it(
    'walks a grayscale release with zero unexpected failures and cleans up',
    { timeout: 240_000 },
    async () => {
      const r = await run(['demo', '--duration', '2', '--rps', '40', '--base', String(base)]);
      expect(r.out).toMatch(/grayscale release complete/);
      expect(r.code, r.out).toBe(0);
      for (const step of [
        'v1 100% / v2 0%',
        'v1 90% / v2 10%',
        'v1 50% / v2 50%',
        'v1 0% / v2 100%',
        'end-user: jason',
        '10% aborted with 503',
      ])
        expect(r.out).toContain(step);
      expect(r.out).toMatch(/istio_requests_total\{reporter="source",response_code="503"\} \+\d+/);
      // mTLS between the sidecars: skeind's CA issued the certificates, the server sidecars saw
      // every request of every step over mutual TLS from the client's identity.
      expect(r.out).toContain(`, TLS on 127.0.${base}.10:15012)`);
      // ... and the sidecars' xDS came over that TLS port (plaintext ADS is on an unadvertised
      // ephemeral port in this mode, so no sidecar could have used it).
      expect(r.out).toContain(`xDS over TLS from 127.0.${base}.10:15012, relayed by the agent`);
      expect(
        r.out.match(
          /mTLS: every request mutual_tls, source_principal spiffe:\/\/cluster\.local\/ns\/demo\/sa\/client\n/g,
        ),
      ).toHaveLength(6);
      expect(r.out).not.toMatch(/✘/);
      expect(existsSync(join(tmpdir(), dirOf(r.out)))).toBe(false);
      expect(leftovers(base, dirOf(r.out))).toEqual([]);
    },
  );

  it('shuts everything down on Ctrl-C, leaving no process or file behind', { timeout: 120_000 }, async () => {
    const p = spawn(bin, ['demo', '--duration', '60', '--rps', '20', '--base', String(base + 1)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let sent = false;
    const code = await new Promise<number | null>((resolve) => {
      p.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('Where to look') && !sent) {
          sent = true;
          setTimeout(() => p.kill('SIGINT'), 3000);
        }
      });
      p.stderr.on('data', (d: Buffer) => (out += d.toString()));
      p.on('exit', (c) => resolve(c));
    });
    expect(out).toMatch(/interrupted: shutting down/);
    expect(out).not.toMatch(/✘/);
    expect(code, out).toBe(130);
    expect(existsSync(join(tmpdir(), dirOf(out)))).toBe(false);
    expect(leftovers(base + 1, dirOf(out))).toEqual([]);
  });

  it('rejects a bad step list with a clear message', async () => {
    const r = await run(['demo', '--steps', '90/10,sideways']);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/unknown step "sideways"/);
  });
});
