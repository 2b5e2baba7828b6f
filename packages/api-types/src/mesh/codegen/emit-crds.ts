// Emits the CustomResourceDefinitions of the mesh API with structural OpenAPI v3 schemas down to
// the leaf fields (pure: returns YAML texts keyed by file name).
import type * as Yaml from 'yaml';
import { lazyRequire } from '../../lazy-require.js';

const yaml = lazyRequire<typeof Yaml>('yaml');
import { meshKinds, type KindInfo } from '../kinds/index.js';
import type { Node } from '../schema/dsl.js';
import { GENERATED_HEADER } from './emit-types.js';

type Schema = Record<string, unknown>;

function withDoc(node: Node, s: Schema): Schema {
  return node.doc ? { description: node.doc, ...s } : s;
}

/** The OpenAPI v3 structural schema of a node. */
export function openApiOf(node: Node): Schema {
  switch (node.t) {
    case 'string':
      return withDoc(node, { type: 'string', ...(node.enum ? { enum: [...node.enum] } : {}) });
    case 'int': {
      const wide = (node.max ?? 0) > 2147483647 || (node.min ?? 0) < -2147483648;
      return withDoc(node, {
        type: 'integer',
        format: wide ? 'int64' : 'int32',
        ...(node.min !== undefined ? { minimum: node.min } : {}),
        ...(node.max !== undefined ? { maximum: node.max } : {}),
      });
    }
    case 'number':
      return withDoc(node, {
        type: 'number',
        format: 'double',
        ...(node.min !== undefined ? { minimum: node.min } : {}),
        ...(node.max !== undefined ? { maximum: node.max } : {}),
      });
    case 'bool':
      return withDoc(node, { type: 'boolean' });
    case 'array':
      return withDoc(node, { type: 'array', items: openApiOf(node.items) });
    case 'map':
      return withDoc(node, { type: 'object', additionalProperties: openApiOf(node.values) });
    case 'free':
      return withDoc(node, { type: 'object', 'x-kubernetes-preserve-unknown-fields': true });
    case 'object': {
      const properties: Record<string, Schema> = {};
      for (const [k, v] of Object.entries(node.fields)) properties[k] = openApiOf(v);
      return withDoc(node, { type: 'object', properties });
    }
  }
}

/** The CRD object of one kind. */
export function crdOf(k: KindInfo): Schema {
  const singular = k.kind.toLowerCase();
  const schema = {
    openAPIV3Schema: {
      type: 'object',
      properties: {
        spec: openApiOf(k.spec),
        status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
      },
    },
  };
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${k.plural}.${k.group}`,
      labels: { 'app.kubernetes.io/part-of': 'skein' },
    },
    spec: {
      group: k.group,
      names: {
        kind: k.kind,
        listKind: `${k.kind}List`,
        plural: k.plural,
        singular,
        ...(k.shortNames.length ? { shortNames: [...k.shortNames] } : {}),
        categories: ['istio-io', `${k.group.split('.')[0]}-istio-io`],
      },
      scope: 'Namespaced',
      versions: k.versions.map((name, i) => ({
        name,
        served: true,
        storage: i === 0,
        subresources: { status: {} },
        schema,
      })),
    },
  };
}

/** File name → YAML text for every CRD (manifests/crds/). */
export function emitCrds(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of meshKinds) {
    out[`${k.group}_${k.plural}.yaml`] =
      `# ${GENERATED_HEADER}\n${yaml().stringify(crdOf(k), { lineWidth: 0, aliasDuplicateObjects: false })}`;
  }
  return out;
}
