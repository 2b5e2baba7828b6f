// The command-line wiring of `bootstrap` and `iptables` (flags → options): the built binary's
// output equals the library's for the same settings, and in a network namespace (root) the
// binary installs and removes the rules.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildBootstrap } from '../src/bootstrap/build-bootstrap.js';
import { DEFAULT_IPTABLES_CONFIG } from '../src/iptables/iptables-config.js';
import { iptablesSave } from '../src/iptables/iptables-rules.js';

const bin = fileURLToPath(new URL('../../../bin/skein-agent', import.meta.url));
const built = existsSync(fileURLToPath(new URL('../dist/main.js', import.meta.url)));
const run = (args: string[]) => execFileSync(bin, args, { encoding: 'utf8' });

// Needs `npm run build` (npm test builds first).
describe.skipIf(!built)(`skein-agent command line${built ? '' : ' (not built)'}`, () => {
  it('bootstrap: flags map onto buildBootstrap', () => {
    const out = run([
      'bootstrap',
      ...['--pod-name', 'r-1', '--namespace', 'shop', '--pod-ip', '10.0.0.9', '--service-account', 'r'],
      ...['--label', 'app=reviews', '--label', 'version=v2', '--discovery-address', 'unix:/tmp/x.sock'],
      ...['--admin-port', '25000', '--stats-port', 'none', '--readiness-source', 'admin'],
    ]);
    const expected = buildBootstrap({
      proxyType: 'sidecar',
      podName: 'r-1',
      namespace: 'shop',
      podIp: '10.0.0.9',
      serviceAccount: 'r',
      clusterId: 'Kubernetes',
      meshId: 'cluster.local',
      labels: { app: 'reviews', version: 'v2' },
      discovery: { unixSocket: '/tmp/x.sock' },
      sdsSocket: './var/run/secrets/workload-spiffe-uds/socket',
      admin: { address: '127.0.0.1', port: 25000 },
      listenAddress: '0.0.0.0',
      statsPort: null,
      readinessPort: 15021,
      readinessSource: 'admin',
      agent: { address: '127.0.0.1', port: 15020 },
    });
    // The release version is stamped at build time; sources say 0.0.0-dev.
    const got = JSON.parse(out) as typeof expected;
    for (const b of [got, expected]) delete (b.node!.metadata as Record<string, unknown>)['ISTIO_VERSION'];
    expect(got).toEqual(expected);
  });

  it('bootstrap: sidecars get delta ADS with VHDS unless --no-vhds or SKEIN_VHDS=false; routers never', () => {
    const ads = (args: string[], env: Record<string, string> = {}) => {
      const b = JSON.parse(
        execFileSync(bin, ['bootstrap', '--discovery-address', 'unix:/tmp/x.sock', ...args], {
          encoding: 'utf8',
          env: { ...process.env, SKEIN_VHDS: '', ...env },
        }),
      ) as {
        node: { metadata: Record<string, unknown> };
        dynamicResources: { adsConfig: { apiType: string } };
      };
      return `${b.dynamicResources.adsConfig.apiType} ${String(b.node.metadata['SKEIN_VHDS'])}`;
    };
    expect(ads([])).toBe('DELTA_GRPC true');
    expect(ads(['--no-vhds'])).toBe('GRPC undefined');
    expect(ads([], { SKEIN_VHDS: 'false' })).toBe('GRPC undefined');
    expect(ads(['--type', 'router'])).toBe('GRPC undefined');
  });

  it('iptables --dry-run: Istio flags map onto the rule set', () => {
    const out = run([
      'iptables',
      '-n',
      '-p',
      '15001',
      '-z',
      '15006',
      '-u',
      '1337',
      '-m',
      'REDIRECT',
      '-i',
      '*',
      '-x',
      '10.0.0.1/32',
      '-b',
      '*',
      '-d',
      '15090,15021,15020',
      '-o',
      '3306',
    ]);
    const expected = iptablesSave(
      { ...DEFAULT_IPTABLES_CONFIG, excludeOutboundCidrs: ['10.0.0.1/32'], excludeOutboundPorts: ['3306'] },
      4,
    );
    expect(out.startsWith(`# iptables-save\n${expected}# ip6tables-save\n`)).toBe(true);
  });

  // Root only: a namespace of its own.
  it.skipIf(process.getuid?.() !== 0)('iptables installs, re-runs and cleans up in a namespace', () => {
    const ns = `skein-c-${randomBytes(3).toString('hex')}`;
    execFileSync('ip', ['netns', 'add', ns]);
    try {
      const inNs = (args: string[]) =>
        execFileSync('ip', ['netns', 'exec', ns, ...args], { encoding: 'utf8' });
      inNs([bin, 'iptables']);
      inNs([bin, 'iptables']);
      const saved = inNs(['iptables-save', '-t', 'nat']);
      expect(
        saved.split('\n').filter((l) => l === '-A ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports 15001'),
      ).toHaveLength(1);
      expect(inNs(['ip6tables-save', '-t', 'nat'])).toContain('ISTIO_OUTPUT');
      inNs([bin, 'iptables', '--cleanup']);
      expect(inNs(['iptables-save', '-t', 'nat'])).not.toMatch(/ISTIO|skein/);
      expect(inNs(['ip6tables-save', '-t', 'nat'])).not.toMatch(/ISTIO|skein/);
    } finally {
      execFileSync('ip', ['netns', 'del', ns]);
    }
  });
});
