// node:tls and node:crypto through process.getBuiltinModule() rather than ES imports: an ES import
// of a builtin builds a facade that reads every export, which runs tls.rootCertificates (parses
// Node's whole CA bundle) and crypto.webcrypto (loads Web Crypto) — about 4 MB of RSS the proxy
// never uses. Types still come from `import type`.
import type * as Crypto from 'node:crypto';
import type * as Tls from 'node:tls';

export const nodeTls: typeof Tls = process.getBuiltinModule('node:tls');
export const nodeCrypto: typeof Crypto = process.getBuiltinModule('node:crypto');
