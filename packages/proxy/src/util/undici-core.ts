// undici's pooled HTTP/1.1 client without undici's index: the index also loads fetch, WebSocket,
// EventSource, caches and mocks, and through their use of Web globals Node's own bundled copy of
// undici — about 8 MB of RSS that a proxy never uses. This loads the pool, its request API and
// the error classes, and nothing else.
import { createRequire } from 'node:module';
import type * as Undici from 'undici';

const require = createRequire(import.meta.url);

const Dispatcher = require('undici/lib/dispatcher/dispatcher.js') as typeof Undici.Dispatcher;
// What undici's index does: request(), stream(), pipeline(), connect(), upgrade() on every dispatcher.
Object.assign(Dispatcher.prototype, require('undici/lib/api/index.js') as object);

export const Pool = require('undici/lib/dispatcher/pool.js') as typeof Undici.Pool;
export type Pool = Undici.Pool;
export const errors = require('undici/lib/core/errors.js') as typeof Undici.errors;
