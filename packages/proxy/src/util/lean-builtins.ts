// Keeps getters a proxy never uses from running when Node's builtins are imported as ES modules.
// The ES module facade of a builtin reads every export once, which runs lazy getters: node:http's
// WebSocket, CloseEvent and MessageEvent load Node's bundled undici (a 0.8 MB bundle, about
// 14 MB of RSS once compiled); node:fs's below load about 1 MB more. The binary's entry points call this before anything else imports
// node:http: the getters are taken off while the facade is made, then put back, so `http.WebSocket`
// still works; only a named ES import of them (`import { WebSocket } from 'node:http'`) would see
// undefined, and nothing in the proxy does that. (tls.rootCertificates and crypto.webcrypto do
// the same but are not configurable, so they stay.)
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

const SKIPPED: Record<string, readonly string[]> = {
  'node:http': ['WebSocket', 'CloseEvent', 'MessageEvent'],
  // fs.promises loads the promise API with readline and the REPL history; the stream classes
  // internal/fs/streams (createWriteStream still loads them when an access log is opened).
  'node:fs': ['promises', 'ReadStream', 'WriteStream', 'FileReadStream', 'FileWriteStream', 'Utf8Stream'],
};

/** Makes the ES module facades above without running those getters; returns what it skipped. */
export async function importBuiltinsLean(): Promise<string[]> {
  const skipped: string[] = [];
  for (const [id, names] of Object.entries(SKIPPED)) {
    const mod = require(id) as Record<string, unknown>;
    const saved = new Map<string, PropertyDescriptor>();
    for (const name of names) {
      const d = Object.getOwnPropertyDescriptor(mod, name);
      if (!d?.get || !d.configurable) continue;
      saved.set(name, d);
      delete mod[name];
    }
    try {
      await import(id);
    } finally {
      for (const [name, d] of saved) Object.defineProperty(mod, name, d);
    }
    skipped.push(...[...saved.keys()].map((n) => `${id}.${n}`));
  }
  return skipped;
}
