// Validation against the corpus of realistic manifests in testdata/mesh: valid ones accepted,
// each broken variant rejected with the field path and reason its annotations name.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatProblems, validateMeshObject } from './validate.js';
import { parseYamlDocuments } from './yaml.js';

const dir = join(import.meta.dirname, '../../testdata/mesh');
const load = (f: string) =>
  parseYamlDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => {
    expect(d.errors).toEqual([]);
    return d.value as { kind: string; metadata: { name: string; annotations?: Record<string, string> } };
  });
const expectation = (o: { metadata: { annotations?: Record<string, string> } }) => ({
  path: o.metadata.annotations?.['test.skein.dev/expect-path'] ?? '',
  reason: o.metadata.annotations?.['test.skein.dev/expect-reason'] ?? '',
});

describe('valid manifests', () => {
  const docs = load('valid.yaml');
  it('covers every kind of the mesh API but EnvoyFilter', () => {
    expect(new Set(docs.map((d) => d.kind)).size).toBe(11);
  });
  it.each(docs.map((d) => [`${d.kind} ${d.metadata.name}`, d] as const))('accepts %s', (_, doc) => {
    const r = validateMeshObject(doc);
    if (!r.ok) throw new Error(formatProblems(r.problems));
    expect(r.warnings).toEqual([]);
  });
});

describe('broken manifests', () => {
  const docs = load('invalid.yaml');
  it.each(docs.map((d) => [d.metadata.name, d] as const))('rejects %s', (_, doc) => {
    const r = validateMeshObject(doc);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const { path, reason } = expectation(doc);
    const hit = r.problems.find((p) => p.path === path && p.reason.includes(reason));
    expect(hit, `expected ${path}: ${reason}\ngot:\n${formatProblems(r.problems)}`).toBeDefined();
    expect(hit?.object).toMatch(new RegExp(`^${doc.kind} `));
  });
});

describe('accepted with warnings', () => {
  it.each(load('warnings.yaml').map((d) => [d.metadata.name, d] as const))('warns about %s', (_, doc) => {
    const r = validateMeshObject(doc);
    if (!r.ok) throw new Error(formatProblems(r.problems));
    const { path, reason } = expectation(doc);
    expect(
      r.warnings.some((w) => w.path === path && w.reason.includes(reason) && w.severity === 'warning'),
    ).toBe(true);
  });
});

describe('problem reporting', () => {
  it('reports every problem of an object, not only the first', () => {
    const r = validateMeshObject({
      apiVersion: 'networking.istio.io/v1',
      kind: 'DestinationRule',
      metadata: { name: 'x', namespace: 'default' },
      spec: { hots: 'a', trafficPolicy: { loadBalancer: { simple: 'FASTEST' } } },
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems.map((p) => p.path).sort()).toEqual([
      'spec.host',
      'spec.hots',
      'spec.trafficPolicy.loadBalancer.simple',
    ]);
    expect(r.problems.every((p) => p.object === 'DestinationRule default/x')).toBe(true);
  });

  it('rejects things that are not objects', () => {
    expect(validateMeshObject('hello').ok).toBe(false);
    expect(validateMeshObject({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'x' } }).ok).toBe(false);
  });
});
