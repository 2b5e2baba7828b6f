// Parsing of multi-document YAML manifests into plain objects, with per-document errors.
import type * as Yaml from 'yaml';
import { lazyRequire } from '../lazy-require.js';

const yaml = lazyRequire<typeof Yaml>('yaml');

export interface YamlDocument {
  /** 0-based index of the document in the text. */
  readonly index: number;
  /** The parsed value (null for an empty document). */
  readonly value: unknown;
  /** Parse errors; when present, value is not to be used. */
  readonly errors: readonly string[];
}

/** Splits and parses a multi-document YAML text; empty documents are dropped. */
export function parseYamlDocuments(text: string): YamlDocument[] {
  return yaml()
    .parseAllDocuments(text, { uniqueKeys: true })
    .map((doc, index) => ({
      index,
      value: doc.errors.length ? null : (doc.toJS({ maxAliasCount: 100 }) as unknown),
      errors: doc.errors.map((e) => e.message),
    }))
    .filter((d) => d.errors.length > 0 || (d.value !== null && d.value !== undefined));
}
