// Writes the generated mesh API files: src/mesh/gen/types.ts and manifests/crds/*.yaml.
// Run through `npm run generate:mesh` (builds api-types first). A test fails when they are stale.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { emitCrds } from '../dist/mesh/codegen/emit-crds.js';
import { emitTypes } from '../dist/mesh/codegen/emit-types.js';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const crdDir = join(pkg, '../../manifests/crds');
mkdirSync(join(pkg, 'src/mesh/gen'), { recursive: true });
writeFileSync(join(pkg, 'src/mesh/gen/types.ts'), emitTypes());
mkdirSync(crdDir, { recursive: true });
for (const f of readdirSync(crdDir)) if (f.endsWith('.yaml')) rmSync(join(crdDir, f));
for (const [name, text] of Object.entries(emitCrds())) writeFileSync(join(crdDir, name), text);
console.log('wrote src/mesh/gen/types.ts and manifests/crds/');
