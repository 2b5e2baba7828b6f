// ServiceEntry address auto-allocation: address-less hosts get stable 240.240.0.0/16 addresses
// for proxies that ask (DNS_AUTO_ALLOCATE), in the name table and as outbound listener keys.
import { describe, expect, it } from 'vitest';
import { generate, proxy, snapshotFromYaml } from '../../test/support/translate.js';
import { translateContext } from './context.js';
import { nameTable } from './name-table.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const se = (
  name: string,
  host: string,
  resolution: string,
  port: number,
  extra = '',
) => `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: ${name}, namespace: default }
spec:
  hosts: [${host}]
  location: MESH_EXTERNAL
  resolution: ${resolution}
  ports: [{ number: ${port}, name: tcp }]
${extra}`;

const YAML = [
  se('db-a', 'db-a.example.com', 'DNS', 5432),
  se('db-b', 'db-b.example.com', 'DNS', 5432),
  se('fixed', 'fixed.example.com', 'DNS', 5432, '  addresses: [10.9.9.9]\n'),
  se('passthrough', 'any.example.com', 'NONE', 7000),
].join('---\n');

const auto = proxy({ ip: '10.0.0.9', metadata: { DNS_AUTO_ALLOCATE: 'true' } });

describe('ServiceEntry address auto-allocation', () => {
  const snap = snapshotFromYaml(YAML);

  it('gives each address-less host a distinct 240.240/16 address in the name table', () => {
    const table = nameTable(translateContext(snap, auto)).table ?? {};
    const a = table['db-a.example.com']?.ips ?? [];
    const b = table['db-b.example.com']?.ips ?? [];
    expect(a).toHaveLength(1);
    expect(a[0]).toMatch(/^240\.240\.\d+\.\d+$/);
    expect(b[0]).toMatch(/^240\.240\.\d+\.\d+$/);
    expect(a[0]).not.toBe(b[0]);
    expect(table['fixed.example.com']?.ips).toEqual(['10.9.9.9']); // declared addresses win
    expect(table['any.example.com']).toBeUndefined(); // resolution NONE: nothing to allocate
  });

  it('is stable per host: the same address whatever else the mesh holds', () => {
    const alone = snapshotFromYaml(se('db-a', 'db-a.example.com', 'DNS', 5432));
    expect(nameTable(translateContext(alone, auto)).table?.['db-a.example.com']?.ips).toEqual(
      nameTable(translateContext(snap, auto)).table?.['db-a.example.com']?.ips,
    );
  });

  it('keys TCP listeners by the allocated address, so two services share a port', () => {
    const table = nameTable(translateContext(snap, auto)).table ?? {};
    const out = generate(snap, auto);
    for (const host of ['db-a.example.com', 'db-b.example.com']) {
      const ip = table[host]?.ips?.[0];
      const l = out.listeners.find((x) => x['name'] === `${ip}_5432`) as Json | undefined;
      expect(l?.['filterChains'][0].filters[0].typedConfig.cluster).toBe(`outbound|5432||${host}`);
    }
  });

  it('proxies that did not ask see no allocated addresses', () => {
    const plain = proxy({ ip: '10.0.0.9' });
    expect(JSON.stringify(nameTable(translateContext(snap, plain)))).not.toContain('240.240.');
    expect(JSON.stringify(generate(snap, plain).listeners)).not.toContain('240.240.');
  });
});
