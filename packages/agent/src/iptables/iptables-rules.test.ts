// Golden files of the dry-run output (iptables-save form) and the rule order that matters.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEFAULT_IPTABLES_CONFIG, nameservers, type IptablesConfig } from './iptables-config.js';
import { iptablesSave, mangleRules, natRules, policyRoutes, type Family } from './iptables-rules.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const cases: Record<string, [IptablesConfig, Family]> = {
  'default-v4': [DEFAULT_IPTABLES_CONFIG, 4],
  'default-v6': [DEFAULT_IPTABLES_CONFIG, 6],
  'tproxy-v4': [{ ...DEFAULT_IPTABLES_CONFIG, mode: 'TPROXY' }, 4],
  'tproxy-v6': [{ ...DEFAULT_IPTABLES_CONFIG, mode: 'TPROXY', includeInboundPorts: ['8080', '9090'] }, 6],
  'custom-v4': [
    {
      ...DEFAULT_IPTABLES_CONFIG,
      includeOutboundCidrs: ['10.96.0.0/12', '10.244.0.0/16', 'fd00::/8'],
      excludeOutboundCidrs: ['10.96.0.1/32'],
      includeInboundPorts: ['8080', '9090'],
      excludeOutboundPorts: ['3306'],
      includeOutboundPorts: ['443'],
      excludeInterfaces: ['net1'],
      kubeVirtInterfaces: ['vmtap0'],
      captureDns: true,
      dnsServers: ['10.96.0.10'],
    },
    4,
  ],
};

describe('iptables rules', () => {
  for (const [name, [config, family]] of Object.entries(cases)) {
    it(`matches the golden dry run ${name}`, () => {
      const out = iptablesSave(config, family);
      const file = `${here}testdata/${name}.golden.txt`;
      if (process.env['UPDATE_GOLDEN']) writeFileSync(file, out);
      expect(out).toBe(readFileSync(file, 'utf8'));
    });
  }

  it('orders the owner and loopback rules as Istio does', () => {
    const r = natRules(DEFAULT_IPTABLES_CONFIG, 4).filter((l) => l.startsWith('-A ISTIO_OUTPUT'));
    expect(r[0]).toBe('-A ISTIO_OUTPUT -s 127.0.0.6/32 -o lo -j RETURN');
    expect(r[1]).toContain('! -d 127.0.0.1/32 -o lo');
    expect(r[1]).toContain('--uid-owner 1337 -j ISTIO_IN_REDIRECT');
    expect(r[4]).toContain('--gid-owner 1337 -j ISTIO_IN_REDIRECT');
    expect(r.at(-2)).toBe('-A ISTIO_OUTPUT -d 127.0.0.1/32 -j RETURN');
    expect(r.at(-1)).toBe('-A ISTIO_OUTPUT -j ISTIO_REDIRECT');
  });

  it('keeps inbound out of nat in TPROXY mode, and the self-call redirect in it', () => {
    const c = { ...DEFAULT_IPTABLES_CONFIG, mode: 'TPROXY' as const };
    const nat = natRules(c, 4);
    expect(nat.some((l) => l.startsWith('-A PREROUTING'))).toBe(false);
    expect(nat.filter((l) => l.includes('-j ISTIO_IN_REDIRECT'))).toHaveLength(2);
    const mangle = mangleRules(c, 4).filter((l) => l.startsWith('-A ISTIO_INBOUND'));
    // Loopback and already-marked traffic returns before anything is diverted.
    expect(mangle.slice(0, 3)).toEqual([
      '-A ISTIO_INBOUND -p tcp -m mark --mark 1337 -j RETURN',
      '-A ISTIO_INBOUND -p tcp -s 127.0.0.6/32 -i lo -j RETURN',
      '-A ISTIO_INBOUND -p tcp -i lo -m mark ! --mark 1338 -j RETURN',
    ]);
    expect(mangle.at(-1)).toBe('-A ISTIO_INBOUND -p tcp -j ISTIO_TPROXY');
    expect(policyRoutes(c, 6)).toEqual([
      ['-6', 'rule', 'add', 'fwmark', '1337', 'lookup', '133'],
      ['-6', 'route', 'add', 'local', 'default', 'dev', 'lo', 'table', '133'],
    ]);
    expect(mangleRules(DEFAULT_IPTABLES_CONFIG, 4)).toEqual([]);
  });

  it('reads nameservers from resolv.conf', () => {
    expect(nameservers('search x\nnameserver 10.96.0.10\n# c\nnameserver fd00::a\n')).toEqual([
      '10.96.0.10',
      'fd00::a',
    ]);
  });
});
