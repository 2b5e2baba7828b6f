// Reads --mesh-config: a YAML MeshConfig file, or a ConfigMap whose data.mesh holds one (as
// Istio's `istio` ConfigMap does).
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { meshConfigFrom, type MeshConfig } from '../model/mesh-config.js';

export async function readMeshConfig(path: string): Promise<MeshConfig> {
  const text = await readFile(path, 'utf8');
  let doc: unknown = parse(text);
  if (doc && typeof doc === 'object' && (doc as { kind?: unknown }).kind === 'ConfigMap') {
    const mesh = (doc as { data?: { mesh?: unknown } }).data?.mesh;
    doc = typeof mesh === 'string' ? parse(mesh) : {};
  }
  const r = meshConfigFrom(doc);
  if (!r.ok) throw new Error(`${path}: ${r.problems.join('; ')}`);
  return r.config;
}
