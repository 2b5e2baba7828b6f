// Reads an Envoy v3 Bootstrap (YAML or JSON), validates it against the generated schema and
// returns its canonical JSON, with the fields skein-proxy does not implement listed by path.
// node:fs, not node:fs/promises: the promise API loads readline and more (about 1 MB of RSS) for
// one read at start.
import { readFileSync } from 'node:fs';
import type * as Yaml from 'yaml';
import { bootstrapV3, messageFromJson, messageToJson } from '@skein/api-types';
import { bootstrap as bootstrapSpec, unsupportedFields } from './supported-fields.js';
import { lazyRequire } from '../util/lazy-require.js';

const yaml = lazyRequire<typeof Yaml>('yaml');

export type BootstrapJson = bootstrapV3.BootstrapJson;

export interface LoadedBootstrap {
  bootstrap: BootstrapJson;
  /** Field paths set in the bootstrap that skein-proxy does not implement. */
  unsupported: string[];
}

/** Canonicalises a bootstrap object (snake_case or camelCase, as Envoy accepts). */
export function canonicalBootstrap(obj: unknown): LoadedBootstrap {
  const msg = messageFromJson(bootstrapV3.BootstrapSchema, obj);
  const bootstrap = messageToJson(bootstrapV3.BootstrapSchema, msg) as BootstrapJson;
  return { bootstrap, unsupported: unsupportedFields(bootstrap, bootstrapSpec, '') };
}

/** Parses bootstrap text: JSON, else YAML (a superset of JSON, loaded only when needed). */
export function parseBootstrap(text: string): LoadedBootstrap {
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch {
    obj = yaml().parse(text);
  }
  if (obj === null || typeof obj !== 'object') throw new Error('bootstrap: expected a mapping');
  return canonicalBootstrap(obj);
}

export async function loadBootstrapFile(path: string): Promise<LoadedBootstrap> {
  const text = readFileSync(path, 'utf8');
  try {
    return parseBootstrap(text);
  } catch (err) {
    throw new Error(`bootstrap ${path}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}
