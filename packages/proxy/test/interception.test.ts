// Interception in a network namespace the test creates: iptables REDIRECTs the namespace's
// outbound traffic to 10.10.0.0/24 to the proxy's 15001 listener; the proxy recovers the original
// destination (SO_ORIGINAL_DST) and hands the connection to the listener for that address, or
// serves it with the virtual listener's own chain. Needs root, ip and iptables (Debian packages
// installed by scripts/system-deps.sh); test traffic stays inside the namespace.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const NS = `skein-proxy-it-${process.pid}`;
const child = join(import.meta.dirname, 'netns', 'intercept-child.mjs');
const built = existsSync(join(import.meta.dirname, '..', 'dist', 'index.js'));
const addon = existsSync(join(import.meta.dirname, '..', 'dist', 'native', 'original-dst.node'));
const canNetns =
  process.getuid?.() === 0 &&
  spawnSync('ip', ['netns', 'list'], { stdio: 'ignore' }).status === 0 &&
  spawnSync('iptables', ['--version'], { stdio: 'ignore' }).status === 0;

function ns(...args: string[]): void {
  execFileSync('ip', ['netns', 'exec', NS, ...args], { stdio: 'pipe' });
}

// Skipped only without root/ip/iptables, or when the package is not built (nx builds it first).
describe.skipIf(!canNetns || !built || !addon)('interception with iptables REDIRECT', () => {
  beforeAll(() => {
    execFileSync('ip', ['netns', 'add', NS]);
    ns('ip', 'link', 'set', 'lo', 'up');
    // A veth pair gives the namespace a route to the service range 10.10.0.0/24.
    ns('ip', 'link', 'add', 'svc0', 'type', 'veth', 'peer', 'name', 'svc1');
    ns('ip', 'addr', 'add', '10.10.0.1/24', 'dev', 'svc0');
    ns('ip', 'link', 'set', 'svc0', 'up');
    ns('ip', 'link', 'set', 'svc1', 'up');
    ns(
      'iptables',
      '-t',
      'nat',
      '-A',
      'OUTPUT',
      '-p',
      'tcp',
      '-d',
      '10.10.0.0/24',
      '-j',
      'REDIRECT',
      '--to-ports',
      '15001',
    );
  });

  afterAll(() => {
    spawnSync('ip', ['netns', 'del', NS]);
  });

  it('routes redirected connections by their original destination', () => {
    const out = execFileSync('ip', ['netns', 'exec', NS, process.execPath, child], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    const r = JSON.parse(out.trim().split('\n').pop() ?? '{}') as Record<string, string>;
    expect(r['exact']).toBe('200 reviews saw 10.10.0.10/r');
    expect(r['wildcardPort']).toBe('200 ratings saw 10.10.0.20:9080/x');
    expect(r['none']).toBe('502 no listener for this destination');
  });
});
