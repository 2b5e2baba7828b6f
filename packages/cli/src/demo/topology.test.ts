// The demo's configuration is plain Istio YAML that passes the same validation skeind applies.
import { parseYamlDocuments, validateMeshObject, formatProblems } from '@skein/api-types';
import { describe, expect, it } from 'vitest';
import { analyzeSources } from '../analyze/analyze.js';
import { defaultSteps, meshYaml, topology, virtualServiceYaml } from './topology.js';

describe('demo configuration', () => {
  const mesh = meshYaml(topology());
  it('is valid Istio YAML, every document', () => {
    for (const text of [mesh, ...defaultSteps.map(virtualServiceYaml)]) {
      for (const d of parseYamlDocuments(text)) {
        const r = validateMeshObject(d.value);
        if (!r.ok) throw new Error(formatProblems(r.problems));
      }
    }
  });

  it('has no analyzer findings at any step', () => {
    for (const step of defaultSteps) {
      const findings = analyzeSources([
        { name: 'mesh.yaml', text: mesh },
        { name: 'vs.yaml', text: virtualServiceYaml(step) },
      ]);
      expect(findings).toEqual([]);
    }
  });
});
