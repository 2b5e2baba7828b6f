// Reads --mesh-config: a YAML MeshConfig file, or a ConfigMap whose data.mesh holds one (as
// Istio's `istio` ConfigMap does). `meshConfigFromText` is shared with the Kubernetes source,
// which reads the same key from the live ConfigMap.
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { meshConfigFrom, type MeshConfigResult } from '../model/mesh-config.js';
import type { MeshConfig } from '../model/mesh-config.js';

/** A MeshConfig document (YAML or JSON text) over Istio's defaults. */
export function meshConfigFromText(text: string): MeshConfigResult {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    return { ok: false, problems: [`mesh config: not YAML: ${(e as Error).message}`] };
  }
  return meshConfigFrom(doc);
}

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
