// Skein's installation manifests — manifests/crds and manifests/control-plane of the repository
// skeinctl runs from — read and parsed into objects, grouped the way install applies them.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { KubeObject } from './objects.js';

export interface SkeinManifests {
  /** CustomResourceDefinitions, applied first and waited for (Established). */
  readonly crds: readonly KubeObject[];
  /** The namespace (first), RBAC, skeind's Deployment and Service. */
  readonly controlPlane: readonly KubeObject[];
  /** The injector's and the validator's webhook configurations, applied last. */
  readonly webhooks: readonly KubeObject[];
}

/** `<repo>/manifests`, found from this module (src/install or dist/install of packages/cli). */
export function defaultManifestsDir(): string {
  return join(import.meta.dirname, '..', '..', '..', '..', 'manifests');
}

/** Every object of a multi-document YAML text; `source` names it in errors. */
export function parseManifest(text: string, source: string): KubeObject[] {
  const out: KubeObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`${source}: ${doc.errors[0]?.message ?? 'invalid YAML'}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    const obj = value as Partial<KubeObject>;
    if (typeof obj.apiVersion !== 'string' || typeof obj.kind !== 'string' || !obj.metadata?.name)
      throw new Error(`${source}: a document without apiVersion, kind or metadata.name`);
    out.push(obj as KubeObject);
  }
  return out;
}

const WEBHOOK_KINDS = new Set(['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration']);

/** Groups parsed objects: CRDs, control plane (Namespace first, then file order), webhooks. */
export function groupManifests(objects: readonly KubeObject[]): SkeinManifests {
  const crds = objects.filter((o) => o.kind === 'CustomResourceDefinition');
  const webhooks = objects.filter((o) => WEBHOOK_KINDS.has(o.kind));
  const rest = objects.filter((o) => o.kind !== 'CustomResourceDefinition' && !WEBHOOK_KINDS.has(o.kind));
  const controlPlane = [
    ...rest.filter((o) => o.kind === 'Namespace'),
    ...rest.filter((o) => o.kind !== 'Namespace'),
  ];
  return { crds, controlPlane, webhooks };
}

/** Reads `<dir>/crds/*.yaml` and `<dir>/control-plane/*.yaml` (sorted by name). */
export function loadManifests(dir: string = defaultManifestsDir()): SkeinManifests {
  const objects: KubeObject[] = [];
  for (const sub of ['crds', 'control-plane']) {
    const d = join(dir, sub);
    if (!existsSync(d)) throw new Error(`no ${sub}/ in the manifests directory ${dir}`);
    for (const f of readdirSync(d)
      .filter((n) => n.endsWith('.yaml') || n.endsWith('.yml'))
      .sort()) {
      objects.push(...parseManifest(readFileSync(join(d, f), 'utf8'), join(d, f)));
    }
  }
  return groupManifests(objects);
}
