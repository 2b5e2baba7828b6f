// skeinctl as a user runs it: the built binary, its help, output formats and exit codes.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const bin = join(import.meta.dirname, '../../../bin/skeinctl');
const run = (...args: string[]) => spawnSync(bin, args, { encoding: 'utf8' });
const dir = mkdtempSync(join(tmpdir(), 'skeinctl-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const good = `apiVersion: v1
kind: Service
metadata: { name: web, namespace: default }
spec: { ports: [{ name: http, port: 80 }] }
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: web, namespace: default }
spec:
  hosts: [web]
  http:
    - route: [{ destination: { host: web } }]
`;

describe('skeinctl', () => {
  it('prints help for every command', () => {
    for (const cmd of [[], ['analyze'], ['proxy-config'], ['proxy-config', 'listeners'], ['version']]) {
      const r = run(...cmd, '--help');
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/Usage: skeinctl/);
    }
  });

  it('analyze exits 0 on clean input and 1 on errors, with json output', () => {
    writeFileSync(join(dir, 'good.yaml'), good);
    const ok = run('analyze', '-f', join(dir, 'good.yaml'));
    expect(ok.status, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/No validation issues/);

    writeFileSync(join(dir, 'bad.yaml'), good.replace('host: web }', 'host: web, subset: v9 }'));
    const bad = run('analyze', '-f', dir, '-o', 'json');
    expect(bad.status).toBe(1);
    const findings = JSON.parse(bad.stdout) as { code: string; severity: string }[];
    expect(findings.map((f) => f.code)).toContain('SKN0201');
  });

  it('analyze exits 0 on warnings alone', () => {
    writeFileSync(
      join(dir, 'warn.yaml'),
      'apiVersion: networking.istio.io/v1alpha3\nkind: EnvoyFilter\nmetadata: { name: f }\nspec: {}\n',
    );
    const r = run('analyze', '-f', join(dir, 'warn.yaml'));
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Warning \[SKN0301\]/);
  });

  it('reports an unreachable admin endpoint clearly', () => {
    const r = run('proxy-config', 'clusters', '--admin', 'http://127.0.0.1:1');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/cannot reach http:\/\/127\.0\.0\.1:1\/config_dump/);
  });
});
