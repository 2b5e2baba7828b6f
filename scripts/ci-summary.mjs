// Prints CI's closing line: the unit/integration summary (.test-summary.json, written by
// run-tests.mjs) plus the e2e suites' vitest JSON report, as "N passed, N failed, N skipped".
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const read = (f) => (existsSync(join(root, f)) ? JSON.parse(readFileSync(join(root, f), 'utf8')) : undefined);
const unit = read('.test-summary.json') ?? { passed: 0, failed: 1, skipped: 0 };
const e2e = read('e2e/.e2e-report.json');
const [unitStatus, e2eStatus] = process.argv.slice(2).map(Number);
let { passed, failed, skipped } = unit;
if (e2e) {
  passed += e2e.numPassedTests ?? 0;
  failed += e2e.numFailedTests ?? 0;
  skipped += (e2e.numPendingTests ?? 0) + (e2e.numTodoTests ?? 0);
  console.log(`e2e: ${e2e.numPassedTests} passed, ${e2e.numFailedTests} failed`);
}
if (unitStatus !== 0 && failed === 0) failed = 1;
if (e2eStatus !== 0 && (e2e?.numFailedTests ?? 0) === 0) failed += 1; // setup failed before any test
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
