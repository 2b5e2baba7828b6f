// Run-time validation of mesh objects against the schema: every problem, each with the object,
// the field path and the reason.
import { compileRe2 } from '../regex/re2.js';
import { findKind, meshKinds } from './kinds/index.js';
import type { Node, ObjectNode, Report } from './schema/dsl.js';
import { tryParseDuration } from './schema/duration.js';
import type { MeshObject } from './gen/types.js';

export interface Problem {
  /** "Kind namespace/name" of the object. */
  readonly object: string;
  /** Field path, e.g. "spec.http[0].route[1].weight". */
  readonly path: string;
  readonly reason: string;
  readonly severity: 'error' | 'warning';
}

export type ValidationResult =
  { ok: true; object: MeshObject; warnings: Problem[] } | { ok: false; problems: Problem[] };

const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Checks a value against a schema node, reporting problems under `path`. */
export function validateNode(node: Node, value: unknown, path: string, report: Report): void {
  switch (node.t) {
    case 'string':
      if (typeof value !== 'string') return report(path, `expected a string, got ${typeName(value)}`);
      if (node.enum && !node.enum.includes(value))
        return report(path, `${JSON.stringify(value)} is not one of ${node.enum.join(', ')}`);
      if (node.format === 'duration' && tryParseDuration(value) === undefined)
        return report(
          path,
          `malformed duration ${JSON.stringify(value)} (expected e.g. "1.5s", "100ms", "3m")`,
        );
      if (node.format === 're2') {
        const r = compileRe2(value);
        if (!r.ok) return report(path, `regex ${JSON.stringify(value)} is not valid RE2: ${r.error}`);
      }
      break;
    case 'int':
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value))
        return report(
          path,
          `expected ${node.t === 'int' ? 'an integer' : 'a number'}, got ${typeName(value)}`,
        );
      if (node.t === 'int' && !Number.isInteger(value))
        return report(path, `expected an integer, got ${value}`);
      if (node.min !== undefined && value < node.min)
        return report(path, `${value} is below the minimum ${node.min}`);
      if (node.max !== undefined && value > node.max)
        return report(path, `${value} is above the maximum ${node.max}`);
      break;
    case 'bool':
      if (typeof value !== 'boolean') return report(path, `expected a boolean, got ${typeName(value)}`);
      break;
    case 'array':
      if (!Array.isArray(value)) return report(path, `expected a list, got ${typeName(value)}`);
      value.forEach((item, i) => validateNode(node.items, item, `${path}[${i}]`, report));
      break;
    case 'map':
      if (!isObject(value)) return report(path, `expected a map, got ${typeName(value)}`);
      for (const [k, v] of Object.entries(value)) validateNode(node.values, v, `${path}.${k}`, report);
      break;
    case 'free':
      break;
    case 'object':
      if (!isObject(value)) return report(path, `expected an object (${node.name}), got ${typeName(value)}`);
      validateObjectNode(node, value, path, report);
      break;
  }
  for (const check of node.checks ?? []) check(value, path, report);
}

function validateObjectNode(
  node: ObjectNode,
  value: Record<string, unknown>,
  path: string,
  report: Report,
): void {
  for (const [k, v] of Object.entries(value)) {
    const field = node.fields[k];
    if (!field) {
      report(`${path}.${k}`, `unknown field "${k}" in ${node.name}`);
      continue;
    }
    if (v === null || v === undefined) continue;
    validateNode(field, v, `${path}.${k}`, report);
  }
  for (const r of node.required ?? []) {
    if (value[r] === undefined || value[r] === null || value[r] === '')
      report(`${path}.${r}`, `${r} is required`);
  }
  for (const group of node.oneOf ?? []) {
    const set = group.filter((f) => value[f] !== undefined && value[f] !== null);
    if (set.length > 1) report(path, `only one of ${group.join(', ')} may be set (got ${set.join(', ')})`);
  }
}

/** Validates one mesh object (already parsed from YAML or JSON). */
export function validateMeshObject(obj: unknown): ValidationResult {
  const problems: Problem[] = [];
  const meta = isObject(obj) && isObject(obj.metadata) ? obj.metadata : {};
  const kindName = isObject(obj) && typeof obj.kind === 'string' ? obj.kind : '<no kind>';
  const ns = typeof meta.namespace === 'string' ? meta.namespace : 'default';
  const id = `${kindName} ${ns}/${typeof meta.name === 'string' ? meta.name : '<no name>'}`;
  const report: Report = (path, reason, severity = 'error') =>
    problems.push({ object: id, path, reason, severity });

  if (!isObject(obj)) {
    report('', `expected an object, got ${typeName(obj)}`);
    return { ok: false, problems };
  }
  const apiVersion = typeof obj.apiVersion === 'string' ? obj.apiVersion : '';
  const info = findKind(apiVersion, kindName);
  if (!info) {
    const known = meshKinds.find((k) => k.kind === kindName);
    report(
      known ? 'apiVersion' : 'kind',
      known
        ? `apiVersion ${JSON.stringify(apiVersion)} does not serve ${kindName} (use ${known.versions.map((v) => `${known.group}/${v}`).join(', ')})`
        : `unknown kind ${JSON.stringify(kindName)} in ${JSON.stringify(apiVersion)}`,
    );
    return { ok: false, problems };
  }
  if (!isObject(obj.metadata)) report('metadata', 'metadata is required');
  else {
    if (typeof meta.name !== 'string' || meta.name === '') report('metadata.name', 'name is required');
    else if (!dns1123Subdomain.test(meta.name) || meta.name.length > 253)
      report('metadata.name', `${JSON.stringify(meta.name)} is not a valid DNS-1123 subdomain`);
    if (
      meta.namespace !== undefined &&
      (typeof meta.namespace !== 'string' || !dns1123Subdomain.test(meta.namespace))
    )
      report('metadata.namespace', `${JSON.stringify(meta.namespace)} is not a valid namespace`);
  }
  if (obj.spec === undefined) report('spec', 'spec is required');
  else validateNode(info.spec, obj.spec, 'spec', report);
  if (info.unsupported) report('kind', info.unsupported, 'warning');

  const errors = problems.filter((p) => p.severity === 'error');
  if (errors.length > 0) return { ok: false, problems };
  return { ok: true, object: obj as unknown as MeshObject, warnings: problems };
}

/** "path: reason" lines, for logs and error messages. */
export function formatProblems(problems: readonly Problem[]): string {
  return problems.map((p) => `${p.severity}: ${p.object}: ${p.path || '<root>'}: ${p.reason}`).join('\n');
}
