// Runs every project's cached `test` target through nx, then sums the per-project vitest JSON
// reports into one closing line: "N passed, N failed, N skipped".
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const extra = process.argv.slice(2);
const run = spawnSync('nx', ['run-many', '-t', 'test', '--outputStyle=static', ...extra], {
  cwd: root,
  stdio: 'inherit',
});

let passed = 0;
let failed = 0;
let skipped = 0;
const dirs = [
  ...readdirSync(join(root, 'packages')).map((p) => join(root, 'packages', p)),
  join(root, 'tools'),
  join(root, 'e2e'),
];
for (const dir of dirs) {
  const report = join(dir, '.test-report.json');
  if (!existsSync(report)) continue;
  const r = JSON.parse(readFileSync(report, 'utf8'));
  passed += r.numPassedTests ?? 0;
  failed += r.numFailedTests ?? 0;
  skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
}
if (run.status !== 0 && failed === 0) failed = 1; // a project failed outside its tests
writeFileSync(join(root, '.test-summary.json'), JSON.stringify({ passed, failed, skipped }));
console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(run.status === 0 && failed === 0 ? 0 : 1);
