// Generates packages/api-types/src/gen from proto sources at build time. Nothing generated or
// third-party is committed: the Envoy API protos come from the @grpc/grpc-js-xds registry tarball
// (Apache-2.0), our own protos from ./proto. Run: `npx nx run api-types:generate`.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const pkg = join(here, '..');
const require = createRequire(import.meta.url);
const xdsRoot = dirname(require.resolve('@grpc/grpc-js-xds/package.json'));
const protoOut = join(pkg, 'build/proto');
const genOut = join(pkg, 'src/gen');

/** Entry points: everything they import is generated too. */
const entries = [
  'envoy/config/bootstrap/v3/bootstrap.proto',
  'envoy/config/listener/v3/listener.proto',
  'envoy/config/route/v3/route.proto',
  'envoy/config/cluster/v3/cluster.proto',
  'envoy/config/endpoint/v3/endpoint.proto',
  'envoy/config/rbac/v3/rbac.proto',
  'envoy/config/trace/v3/opentelemetry.proto',
  'envoy/config/trace/v3/zipkin.proto',
  'envoy/admin/v3/config_dump.proto',
  'envoy/admin/v3/clusters.proto',
  'envoy/service/discovery/v3/ads.proto',
  'envoy/service/discovery/v3/discovery.proto',
  'envoy/service/secret/v3/sds.proto',
  'envoy/extensions/transport_sockets/tls/v3/tls.proto',
  'envoy/extensions/transport_sockets/tls/v3/secret.proto',
  'envoy/extensions/transport_sockets/raw_buffer/v3/raw_buffer.proto',
  'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
  'envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.proto',
  'envoy/extensions/filters/network/rbac/v3/rbac.proto',
  'envoy/extensions/filters/http/router/v3/router.proto',
  'envoy/extensions/filters/http/fault/v3/fault.proto',
  'envoy/extensions/filters/http/cors/v3/cors.proto',
  'envoy/extensions/filters/http/rbac/v3/rbac.proto',
  'envoy/extensions/filters/http/jwt_authn/v3/config.proto',
  'envoy/extensions/filters/http/header_mutation/v3/header_mutation.proto',
  'envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector.proto',
  'envoy/extensions/filters/listener/original_dst/v3/original_dst.proto',
  'envoy/extensions/filters/listener/original_src/v3/original_src.proto',
  'envoy/extensions/filters/listener/http_inspector/v3/http_inspector.proto',
  'envoy/extensions/access_loggers/file/v3/file.proto',
  'envoy/extensions/access_loggers/stream/v3/stream.proto',
  'envoy/extensions/upstreams/http/v3/http_protocol_options.proto',
  'envoy/extensions/load_balancing_policies/ring_hash/v3/ring_hash.proto',
  'envoy/extensions/load_balancing_policies/least_request/v3/least_request.proto',
  'envoy/extensions/load_balancing_policies/round_robin/v3/round_robin.proto',
  'envoy/extensions/load_balancing_policies/maglev/v3/maglev.proto',
  'envoy/extensions/load_balancing_policies/random/v3/random.proto',
  'envoy/extensions/load_balancing_policies/wrr_locality/v3/wrr_locality.proto',
  'envoy/extensions/retry/host/previous_hosts/v3/previous_hosts.proto',
  'envoy/extensions/regex_engines/v3/google_re2.proto',
  'istio/v1/auth/ca.proto',
  'istio/networking/nds/v1/nds.proto',
  'stats/plugin_config.proto',
];

function copyProtos(from) {
  cpSync(from, protoOut, {
    recursive: true,
    filter: (src) => !src.endsWith('.md') && !src.includes('/.git'),
  });
}

/**
 * The validate.proto bundled with the Envoy API deps predates options the Envoy protos use
 * (e.g. StringRules.ignore_empty); add the missing fields to our build-time copy only.
 */
function patchValidate() {
  const file = join(protoOut, 'validate/validate.proto');
  let text = readFileSync(file, 'utf8');
  const additions = [
    ['StringRules', 'ignore_empty', 'optional bool ignore_empty = 26;'],
    ['BytesRules', 'ignore_empty', 'optional bool ignore_empty = 14;'],
    ['RepeatedRules', 'ignore_empty', 'optional bool ignore_empty = 5;'],
    ['MapRules', 'ignore_empty', 'optional bool ignore_empty = 6;'],
  ];
  for (const [msg, name, field] of additions) {
    const start = text.indexOf(`message ${msg} {`);
    if (start < 0) continue;
    // Find the brace that closes this message.
    let depth = 0;
    let end = -1;
    for (let i = text.indexOf('{', start); i < text.length; i++) {
      if (text[i] === '{') depth++;
      else if (text[i] === '}' && --depth === 0) {
        end = i;
        break;
      }
    }
    if (end < 0 || text.slice(start, end).includes(` ${name} =`)) continue;
    text = `${text.slice(0, end)}    ${field} // added at build time by Skein\n${text.slice(end)}`;
  }
  writeFileSync(file, text);
}

function listFiles(dir, suffix, acc = []) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) listFiles(p, suffix, acc);
    else if (p.endsWith(suffix)) acc.push(p);
  }
  return acc;
}

const DESC_CALL = /^( {2})(fileDesc|messageDesc|enumDesc|extDesc|serviceDesc)\((.*)\);$/;

/**
 * Makes a generated file's descriptors lazy: every `fileDesc(...)`, `messageDesc(...)`, ... call
 * becomes `lazyDesc(() => ...)`, so importing the file decodes nothing until a descriptor is used.
 * Returns the type names the file declares and whether it declares extensions.
 */
function makeLazy(file) {
  const text = readFileSync(file, 'utf8');
  let calls = 0;
  const lines = text.split('\n').map((line) => {
    const m = DESC_CALL.exec(line);
    if (!m) return line;
    calls++;
    return `${m[1]}lazyDesc(() => ${m[2]}(${m[3]}));`;
  });
  const expected = (text.match(/^ {2}(fileDesc|messageDesc|enumDesc|extDesc|serviceDesc)\(/gm) ?? []).length;
  if (calls !== expected) throw new Error(`${file}: ${expected - calls} descriptor calls not made lazy`);
  let lazyImport = relative(dirname(file), join(pkg, 'src/xds/lazy-desc.js'));
  if (!lazyImport.startsWith('.')) lazyImport = `./${lazyImport}`;
  const at = lines.findIndex((l) => l.startsWith('import '));
  lines.splice(at, 0, `import { lazyDesc } from ${JSON.stringify(lazyImport)};`);
  writeFileSync(file, lines.join('\n'));
  const types = new Set();
  for (const m of text.matchAll(/@generated from (?:message|enum|service) ([\w.]+)/g)) types.add(m[1]);
  return { types: [...types], extensions: /^ {2}extDesc\(/m.test(text) };
}

/**
 * One registry of every generated file, used for google.protobuf.Any packing and JSON. It knows
 * which file declares each type name and builds a file's descriptors on first lookup.
 */
function writeRegistry() {
  const files = listFiles(genOut, '_pb.ts').sort();
  const lines = [
    '// Generated by packages/api-types/scripts/generate.mjs. Do not edit.',
    "import type { Registry } from '@bufbuild/protobuf';",
    "import { file_google_protobuf_any, file_google_protobuf_duration, file_google_protobuf_struct, file_google_protobuf_wrappers, file_google_protobuf_empty, file_google_protobuf_timestamp } from '@bufbuild/protobuf/wkt';",
    "import { lazyRegistry } from '../xds/lazy-registry.js';",
  ];
  const names = [];
  const index = {};
  const extensionFiles = [];
  files.forEach((f, i) => {
    const { types, extensions } = makeLazy(f);
    for (const t of types) index[t] = i;
    if (extensions) extensionFiles.push(i);
    const rel = relative(genOut, f).replace(/\.ts$/, '.js');
    const fileVar =
      'file_' +
      relative(genOut, f)
        .replace(/_pb\.ts$/, '')
        .replace(/[/.-]/g, '_');
    lines.push(`import { ${fileVar} as f${i} } from './${rel}';`);
    names.push(`f${i}`);
  });
  lines.push(
    '',
    '/** Every generated proto file plus the well-known types; files are built on first lookup. */',
    'export const xdsRegistry: Registry = lazyRegistry(',
    '  [file_google_protobuf_any, file_google_protobuf_duration, file_google_protobuf_struct, file_google_protobuf_wrappers, file_google_protobuf_empty, file_google_protobuf_timestamp],',
    `  [${names.join(', ')}],`,
    `  ${JSON.stringify(index)},`,
    `  ${JSON.stringify(extensionFiles)},`,
    ');',
    '',
  );
  writeFileSync(join(genOut, 'registry.ts'), lines.join('\n'));
}

rmSync(protoOut, { recursive: true, force: true });
rmSync(genOut, { recursive: true, force: true });
mkdirSync(protoOut, { recursive: true });
for (const d of ['envoy-api', 'xds', 'googleapis']) copyProtos(join(xdsRoot, 'deps', d));
cpSync(join(xdsRoot, 'deps/protoc-gen-validate/validate'), join(protoOut, 'validate'), { recursive: true });
copyProtos(join(pkg, 'proto'));
patchValidate();
writeFileSync(join(pkg, 'build/buf.yaml'), 'version: v2\nmodules:\n  - path: proto\n');
writeFileSync(
  join(pkg, 'build/buf.gen.yaml'),
  [
    'version: v2',
    'plugins:',
    `  - local: ${JSON.stringify(require.resolve('@bufbuild/protoc-gen-es/bin/protoc-gen-es'))}`,
    '    out: ../src/gen',
    '    include_imports: true',
    '    opt:',
    '      - target=ts',
    '      - import_extension=js',
    '      - json_types=true',
    '',
  ].join('\n'),
);
const buf = join(dirname(require.resolve('@bufbuild/buf/package.json')), 'bin/buf');
const args = [
  'generate',
  '--template',
  'buf.gen.yaml',
  ...entries.flatMap((e) => ['--path', join('proto', e)]),
];
execFileSync(buf, args, { cwd: join(pkg, 'build'), stdio: 'inherit' });
if (!existsSync(genOut)) throw new Error('buf generated nothing');
writeRegistry();
console.log(`generated ${listFiles(genOut, '_pb.ts').length} files into ${relative(process.cwd(), genOut)}`);
