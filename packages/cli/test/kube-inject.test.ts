// skeinctl kube-inject as a user runs it: a file (and stdin) of workload YAML in, injected YAML on
// stdout that parses back, with the sidecar in the Deployment, the Job that opts out untouched,
// the Service unchanged, flags reaching the template, and errors on stderr with exit code 1.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';

const bin = join(import.meta.dirname, '../../../bin/skeinctl');
const app = join(import.meta.dirname, '../testdata/kube-inject/app.yaml');
const dir = mkdtempSync(join(tmpdir(), 'skein-kube-inject-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[], stdin?: string): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(bin, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('exit', (code) => resolve({ code, out, err }));
    p.stdin.end(stdin ?? '');
  });
}

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const docs = (yaml: string): Obj[] => parseAllDocuments(yaml).map((d) => d.toJS() as Obj);
const initNames = (pod: Obj): string[] =>
  ((pod['spec']['initContainers'] ?? []) as { name: string }[]).map((c) => c.name);

describe('skeinctl kube-inject', () => {
  it('prints the injected YAML: the Deployment gets the sidecar, the opted-out Job and the Service do not', async () => {
    const r = await run([
      'kube-inject',
      '-f',
      app,
      '--proxy-image',
      'registry.example/skein/proxy:1.2',
      '--discovery-address',
      'skeind.mesh.svc:15012',
    ]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const [svc, deploy, job] = docs(r.out);
    expect(svc?.['kind']).toBe('Service');
    expect(svc?.['spec']).toEqual({
      selector: { app: 'web' },
      ports: [{ name: 'http', port: 80, targetPort: 8080 }],
    });
    const pod = deploy?.['spec']['template'];
    expect(initNames(pod)).toEqual(['istio-init', 'istio-proxy']);
    const proxy = pod['spec']['initContainers'][1];
    expect(proxy['image']).toBe('registry.example/skein/proxy:1.2');
    expect(proxy['args']).toContain('--discovery-address=skeind.mesh.svc:15012');
    expect(pod['spec']['containers'][0]['readinessProbe']['httpGet']).toEqual({
      path: '/app-health/web/readyz',
      port: 15020,
      scheme: 'HTTP',
    });
    expect(pod['metadata']['labels']['security.istio.io/tlsMode']).toBe('istio');
    expect(deploy?.['spec']['replicas']).toBe(2);
    expect(initNames(job?.['spec']['template'])).toEqual([]);
  });

  it('reads stdin with -f - and writes a file with -o; takes trustDomain from --mesh-config', async () => {
    const mesh = join(dir, 'mesh.yaml');
    writeFileSync(
      mesh,
      'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: istio }\ndata:\n  mesh: |\n    trustDomain: example.org\n',
    );
    const out = join(dir, 'out.yaml');
    const r = await run(
      ['kube-inject', '-f', '-', '-o', out, '--mesh-config', mesh],
      readFileSync(app, 'utf8'),
    );
    expect(r.code).toBe(0);
    expect(r.out).toBe('');
    const pod = docs(readFileSync(out, 'utf8'))[1]?.['spec']['template'];
    expect(pod['spec']['initContainers'][1]['args']).toContain('--trust-domain=example.org');
  });

  it('fails with a message on stderr for a workload without containers', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(
      bad,
      'apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: broken }\nspec: { template: { spec: {} } }\n',
    );
    const r = await run(['kube-inject', '-f', bad]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/Deployment broken: spec.template.spec.containers is missing/);
  });
});
