// undici's pooled HTTP/1.1 client without undici's index, and only once a pool is made: the index
// also loads fetch, WebSocket, EventSource, caches and mocks, and through their use of Web globals
// Node's own bundled copy of undici — about 8 MB of RSS that a proxy never uses; the pool itself
// (with node:assert) is needed only by TLS-less legacy paths (`SKEIN_PROXY_HTTP1=legacy`), so an
// idle proxy loads none of it. This loads the pool, its request API and the error classes.
import { createRequire } from 'node:module';
import type * as Undici from 'undici';

const require = createRequire(import.meta.url);

interface Core {
  Pool: typeof Undici.Pool;
  errors: typeof Undici.errors;
}
let core: Core | undefined;

function load(): Core {
  if (core) return core;
  const Dispatcher = require('undici/lib/dispatcher/dispatcher.js') as typeof Undici.Dispatcher;
  // What undici's index does: request(), stream(), pipeline(), connect(), upgrade() on every dispatcher.
  Object.assign(Dispatcher.prototype, require('undici/lib/api/index.js') as object);
  core = {
    Pool: require('undici/lib/dispatcher/pool.js') as typeof Undici.Pool,
    errors: require('undici/lib/core/errors.js') as typeof Undici.errors,
  };
  return core;
}

/** undici's Pool, loaded by the first `new Pool(...)`. */
export const Pool = new Proxy(class {} as unknown as typeof Undici.Pool, {
  construct: (_target, args: unknown[]) => Reflect.construct(load().Pool, args) as object,
});
export type Pool = Undici.Pool;

/** A class nothing is an instance of: what an error class is before undici is loaded. */
class NotLoaded {}

/**
 * undici's error classes, for `instanceof`. Before any pool was made no undici error can exist,
 * so each reads as a class that matches nothing rather than loading undici to say so.
 */
export const errors = new Proxy({} as typeof Undici.errors, {
  get: (_target, name) => (core ? (core.errors as Record<string | symbol, unknown>)[name] : NotLoaded),
});
