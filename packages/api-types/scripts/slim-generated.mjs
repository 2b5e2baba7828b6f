// Build step: makes the generated modules' JavaScript (dist/gen) lean at run time. V8 keeps every
// loaded module's source text, and the generated files are two-thirds doc comments (they stay in
// src/gen and in the .d.ts files); their source maps only ever point back at generated code, and
// Node would read each one at load when source maps are on. So the emitted .js files lose their
// comments and their sourceMappingURL, and their .js.map files go.
// Usage: node scripts/slim-generated.mjs <dist/gen>
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

const files = (dir) =>
  readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : [p];
  });

const dir = process.argv[2] ?? 'dist/gen';
let before = 0;
let after = 0;
for (const f of files(dir)) {
  if (f.endsWith('.js.map')) rmSync(f);
  if (!f.endsWith('.js')) continue;
  const text = readFileSync(f, 'utf8');
  const out = ts.transpileModule(text, {
    compilerOptions: {
      removeComments: true,
      target: ts.ScriptTarget.ES2024,
      module: ts.ModuleKind.ESNext,
      sourceMap: false,
    },
  }).outputText;
  before += text.length;
  after += out.length;
  writeFileSync(f, out);
}
console.log(`slim-generated: ${dir}: ${before} → ${after} characters of JavaScript`);
