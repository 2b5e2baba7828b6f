// Emits the TypeScript declarations of the mesh API from the schema (pure: returns the text).
import { meshKinds } from '../kinds/index.js';
import type { Node, ObjectNode } from '../schema/dsl.js';

export const GENERATED_HEADER =
  'Generated from the mesh API schema (packages/api-types/src/mesh/kinds) by `npm run generate:mesh`. Do not edit.';

function collect(node: Node, out: Map<string, ObjectNode>): void {
  switch (node.t) {
    case 'array':
      return collect(node.items, out);
    case 'map':
      return collect(node.values, out);
    case 'object': {
      const seen = out.get(node.name);
      if (seen && seen !== node) {
        if (JSON.stringify(Object.keys(seen.fields)) !== JSON.stringify(Object.keys(node.fields)))
          throw new Error(`two different schema objects are named ${node.name}`);
        return;
      }
      if (seen) return;
      out.set(node.name, node);
      for (const f of Object.values(node.fields)) collect(f, out);
      return;
    }
    default:
      return;
  }
}

function tsType(node: Node): string {
  switch (node.t) {
    case 'string':
      return node.enum ? node.enum.map((v) => JSON.stringify(v)).join(' | ') : 'string';
    case 'int':
    case 'number':
      return 'number';
    case 'bool':
      return 'boolean';
    case 'array': {
      const inner = tsType(node.items);
      return inner.includes('|') ? `(${inner})[]` : `${inner}[]`;
    }
    case 'map':
      return `Record<string, ${tsType(node.values)}>`;
    case 'free':
      return 'Record<string, unknown>';
    case 'object':
      return node.name;
  }
}

function docOf(node: Node): string | undefined {
  if (node.t === 'string' && node.format === 'duration')
    return `${node.doc ?? 'A duration'} (e.g. "1.5s", "100ms").`;
  if (node.t === 'string' && node.format === 're2')
    return `${node.doc ?? 'A regular expression'} (RE2 syntax).`;
  return node.doc;
}

/** The full text of src/mesh/gen/types.ts. */
export function emitTypes(): string {
  const objects = new Map<string, ObjectNode>();
  for (const k of meshKinds) collect(k.spec, objects);
  const lines = [`// ${GENERATED_HEADER}`, ''];
  lines.push(
    '/** Kubernetes object metadata, as much of it as mesh objects use. */',
    'export interface ObjectMeta {',
    '  name: string;',
    '  namespace?: string;',
    '  labels?: Record<string, string>;',
    '  annotations?: Record<string, string>;',
    '  resourceVersion?: string;',
    '  generation?: number;',
    '  uid?: string;',
    '  creationTimestamp?: string;',
    '}',
    '',
  );
  for (const o of [...objects.values()].sort((a, b) => a.name.localeCompare(b.name))) {
    if (o.doc) lines.push(`/** ${o.doc} */`);
    lines.push(`export interface ${o.name} {`);
    for (const [name, field] of Object.entries(o.fields)) {
      const doc = docOf(field);
      if (doc) lines.push(`  /** ${doc.replace(/\*\//g, '* /')} */`);
      const optional = o.required?.includes(name) ? '' : '?';
      lines.push(`  ${name}${optional}: ${tsType(field)};`);
    }
    lines.push('}', '');
  }
  for (const k of meshKinds) {
    lines.push(
      `/** ${k.group} ${k.kind} (${k.versions.join(', ')}). */`,
      `export interface ${k.kind} {`,
      `  apiVersion: ${k.versions.map((v) => JSON.stringify(`${k.group}/${v}`)).join(' | ')};`,
      `  kind: '${k.kind}';`,
      '  metadata: ObjectMeta;',
      `  spec: ${k.spec.name};`,
      '  status?: Record<string, unknown>;',
      '}',
      '',
    );
  }
  lines.push(
    `/** Any mesh object. */`,
    `export type MeshObject = ${meshKinds.map((k) => k.kind).join(' | ')};`,
    '',
  );
  lines.push(`/** The kind names of the mesh API. */`, `export type MeshKind = MeshObject['kind'];`, '');
  return lines.join('\n');
}
