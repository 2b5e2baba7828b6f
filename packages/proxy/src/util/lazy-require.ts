// Synchronous on-demand loading of CommonJS dependencies that an idle proxy does not need (the
// gRPC client only runs with xDS or SDS configured; YAML only parses YAML bootstraps).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** A getter that requires `id` on its first call. */
export function lazyRequire<T>(id: string): () => T {
  let m: T | undefined;
  return () => (m ??= require(id) as T);
}
