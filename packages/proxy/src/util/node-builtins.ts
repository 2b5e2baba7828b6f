// Builtins an idle proxy does not need — node:tls, node:crypto, node:http2, node:https — reached
// through process.getBuiltinModule() on first use rather than ES imports. An ES import builds a
// facade that reads every export, which runs tls.rootCertificates (parses Node's whole CA bundle)
// and crypto.webcrypto (loads Web Crypto); and loading them at all initialises OpenSSL's TLS and
// the HTTP/2 bindings: about 9 MB of RSS for a proxy with plain-text listeners and clusters.
// Types still come from `import type`.
import type * as Crypto from 'node:crypto';
import type * as Http2 from 'node:http2';
import type * as Https from 'node:https';
import type * as Tls from 'node:tls';

/** A stand-in for a builtin module that loads it on its first property read. */
function onFirstUse<T extends object>(id: string): T {
  let m: T | undefined;
  return new Proxy({} as T, {
    get: (_target, name) => Reflect.get((m ??= process.getBuiltinModule(id) as T), name) as unknown,
  });
}

export const nodeTls: typeof Tls = onFirstUse('node:tls');
export const nodeCrypto: typeof Crypto = onFirstUse('node:crypto');
export const nodeHttp2: typeof Http2 = onFirstUse('node:http2');
export const nodeHttps: typeof Https = onFirstUse('node:https');
