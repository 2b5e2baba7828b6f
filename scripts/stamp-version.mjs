// Stamps the release version (the root package.json's) into a built package's dist/version.js.
// Usage: node scripts/stamp-version.mjs <distDir>   (a no-op for packages without version.js)
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const target = join(resolve(process.argv[2] ?? 'dist'), 'version.js');
if (existsSync(target)) {
  const text = readFileSync(target, 'utf8').replace(
    /SKEIN_VERSION = '[^']*'/,
    `SKEIN_VERSION = '${version}'`,
  );
  writeFileSync(target, text);
}
