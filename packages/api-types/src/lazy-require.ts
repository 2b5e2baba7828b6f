// Synchronous on-demand loading of CommonJS builds of dependencies that importing
// @skein/api-types should not load (YAML and RE2 are needed only by the code paths that use them,
// and a proxy reading a JSON bootstrap without regexes uses neither).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** A getter that requires `id` on its first call. */
export function lazyRequire<T>(id: string): () => T {
  let m: T | undefined;
  return () => (m ??= require(id) as T);
}
