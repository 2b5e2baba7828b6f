// Golden files of the dry-run output (iptables-save form) and the rule order that matters.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEFAULT_IPTABLES_CONFIG, nameservers, type IptablesConfig } from './iptables-config.js';
import { iptablesSave, natRules, type Family } from './iptables-rules.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const cases: Record<string, [IptablesConfig, Family]> = {
  'default-v4': [DEFAULT_IPTABLES_CONFIG, 4],
  'default-v6': [DEFAULT_IPTABLES_CONFIG, 6],
  'custom-v4': [
    {
      ...DEFAULT_IPTABLES_CONFIG,
      includeOutboundCidrs: ['10.96.0.0/12', '10.244.0.0/16', 'fd00::/8'],
      excludeOutboundCidrs: ['10.96.0.1/32'],
      includeInboundPorts: ['8080', '9090'],
      excludeOutboundPorts: ['3306'],
      includeOutboundPorts: ['443'],
      excludeInterfaces: ['net1'],
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

  it('reads nameservers from resolv.conf', () => {
    expect(nameservers('search x\nnameserver 10.96.0.10\n# c\nnameserver fd00::a\n')).toEqual([
      '10.96.0.10',
      'fd00::a',
    ]);
  });
});
