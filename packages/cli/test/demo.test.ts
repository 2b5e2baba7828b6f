// The README's first command in its short form: a real grayscale release through skeind and
// skein-proxy processes on loopback. Checks the demo's own verdicts (split within tolerance at
// each step, the header route, the fault rate and its metric, every request mutual TLS, zero
// unexpected failures) and that it leaves no process or file behind.
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const bin = join(import.meta.dirname, '../../../bin/skeinctl');
const demoDirs = () => readdirSync(tmpdir()).filter((d) => d.startsWith('skein-demo-'));

function run(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    p.on('exit', (code) => resolve({ code, out }));
  });
}

/** Processes still running with the demo's addresses (127.0.9.x) or files on their command line. */
function leftovers(): string[] {
  const procs: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes('127.0.9.') || cmd.includes('skein-demo-')) procs.push(`${entry}: ${cmd}`);
    } catch {
      // gone
    }
  }
  return procs;
}

describe('skeinctl demo', () => {
  it(
    'walks a grayscale release with zero unexpected failures and cleans up',
    { timeout: 240_000 },
    async () => {
      const before = new Set(demoDirs());
      const r = await run(['demo', '--duration', '2', '--rps', '40', '--base', '9']);
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
      expect(r.out).toMatch(/CA in \S+, TLS on 127\.0\.9\.10:15012/);
      expect(
        r.out.match(
          /mTLS: every request mutual_tls, source_principal spiffe:\/\/cluster\.local\/ns\/demo\/sa\/client\n/g,
        ),
      ).toHaveLength(6);
      expect(r.out).not.toMatch(/✘/);
      expect(demoDirs().filter((d) => !before.has(d))).toEqual([]);
      expect(leftovers()).toEqual([]);
    },
  );

  it('rejects a bad step list with a clear message', async () => {
    const r = await run(['demo', '--steps', '90/10,sideways']);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/unknown step "sideways"/);
  });
});
