// Offline analysis of manifests: schema validation of every mesh object, then the semantic
// analyzers over mesh and Kubernetes objects together. Pure: documents in, findings out.
import { parseYamlDocuments, validateMeshObject, meshKinds, type MeshObject } from '@skein/api-types';
import { analyzers } from './analyzers.js';
import { codes, finding, type Finding } from './finding.js';
import { idOf, type KubeObject, type Located, type World } from './world.js';

export interface SourceText {
  readonly name: string;
  readonly text: string;
}

const meshGroups = new Set(meshKinds.map((k) => k.group));

function isMeshApi(apiVersion: unknown): boolean {
  return typeof apiVersion === 'string' && meshGroups.has(apiVersion.split('/')[0] ?? '');
}

/** Analyzes a set of YAML texts as if they were the cluster's whole contents. */
export function analyzeSources(
  sources: readonly SourceText[],
  domainSuffix = 'svc.cluster.local',
): Finding[] {
  const findings: Finding[] = [];
  const mesh: Located<MeshObject>[] = [];
  const kube: Located<KubeObject>[] = [];
  for (const src of sources) {
    for (const doc of parseYamlDocuments(src.text)) {
      const origin = `${src.name}#${doc.index}`;
      if (doc.errors.length) {
        findings.push(
          finding('SKN0001', `document ${doc.index}`, doc.errors.join('; '), 'fix the YAML syntax', {
            origin,
          }),
        );
        continue;
      }
      const o = doc.value as { apiVersion?: unknown; kind?: unknown; items?: unknown };
      if (isMeshApi(o.apiVersion)) {
        const r = validateMeshObject(o);
        const problems = r.ok ? r.warnings : r.problems;
        for (const p of problems) {
          const code =
            p.severity === 'error'
              ? 'SKN0101'
              : p.path === 'kind' || p.path === 'spec.action'
                ? 'SKN0301'
                : 'SKN0102';
          findings.push(
            finding(
              code,
              p.object,
              p.reason,
              code === 'SKN0301'
                ? 'remove it, or expect it to have no effect'
                : 'correct the field as the message says',
              {
                path: p.path,
                origin,
              },
            ),
          );
        }
        if (r.ok) mesh.push({ object: r.object, origin });
      } else if (typeof o.kind === 'string' && typeof o.apiVersion === 'string') {
        kube.push({ object: o as KubeObject, origin });
      }
    }
  }
  const world: World = { mesh, kube, domainSuffix };
  for (const a of analyzers) findings.push(...a(world));
  const rank = { Error: 0, Warning: 1, Info: 2 } as const;
  return findings.sort(
    (a, b) =>
      rank[a.severity] - rank[b.severity] || a.object.localeCompare(b.object) || a.code.localeCompare(b.code),
  );
}

export { codes, idOf };
