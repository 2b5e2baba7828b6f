// The committed generated files (mesh types, CRDs) must match what the schema generates now;
// regenerate with `npm run generate:mesh`.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { emitCrds, openApiOf } from './codegen/emit-crds.js';
import { emitTypes } from './codegen/emit-types.js';
import { meshKinds } from './kinds/index.js';

const root = join(import.meta.dirname, '../../../..');
const stale = 'stale generated file: run `npm run generate:mesh` and commit the result';

describe('generated files', () => {
  it('src/mesh/gen/types.ts is fresh', () => {
    expect(readFileSync(join(import.meta.dirname, 'gen/types.ts'), 'utf8'), stale).toBe(emitTypes());
  });

  it('manifests/crds is fresh', () => {
    const want = emitCrds();
    const dir = join(root, 'manifests/crds');
    const have = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
    expect(have.sort(), stale).toEqual(Object.keys(want).sort());
    for (const f of have) expect(readFileSync(join(dir, f), 'utf8'), `${f}: ${stale}`).toBe(want[f]);
  });
});

describe('CRDs', () => {
  it('serve every listed version with the status subresource and a structural schema', () => {
    for (const k of meshKinds) {
      const crd = parse(emitCrds()[`${k.group}_${k.plural}.yaml`] as string);
      expect(crd.spec.versions.map((v: { name: string }) => v.name)).toEqual(k.versions);
      expect(crd.spec.versions.filter((v: { storage: boolean }) => v.storage)).toHaveLength(1);
      for (const v of crd.spec.versions) expect(v.subresources).toEqual({ status: {} });
    }
  });

  it('types leaf fields (no free-form objects except where Istio is free-form)', () => {
    const walk = (s: Record<string, unknown>, path: string, out: string[]) => {
      if (s['x-kubernetes-preserve-unknown-fields']) out.push(path);
      if (!s.type) out.push(`${path} (untyped)`);
      for (const [k, v] of Object.entries((s.properties as Record<string, Record<string, unknown>>) ?? {}))
        walk(v, `${path}.${k}`, out);
      if (s.items) walk(s.items as Record<string, unknown>, `${path}[]`, out);
      if (typeof s.additionalProperties === 'object')
        walk(s.additionalProperties as Record<string, unknown>, `${path}{}`, out);
    };
    const free: string[] = [];
    for (const k of meshKinds) walk(openApiOf(k.spec), k.kind, free);
    expect(free).toEqual(['EnvoyFilter.configPatches[]']);
  });
});
