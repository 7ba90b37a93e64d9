// Reads the vitest JSON reports of every package and prints per-package counts and a closing
// "N passed, N failed" line. `--total` sums the runs recorded so far in .ci-test-counts.json.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ledger = '.ci-test-counts.json';
const label = process.argv[2];

if (label === '--total') {
  const runs = existsSync(ledger) ? JSON.parse(readFileSync(ledger, 'utf8')) : [];
  const passed = runs.reduce((sum, run) => sum + run.passed, 0);
  const failed = runs.reduce((sum, run) => sum + run.failed, 0);
  for (const run of runs) console.log(`${run.label}: ${run.passed} passed, ${run.failed} failed`);
  console.log('\nall runs:');
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed > 0 || passed === 0 ? 1 : 0);
}

let passed = 0;
let failed = 0;
let skipped = 0;
const rows = [];
// Every workspace package with tests: packages/*, apps/* and the end-to-end package.
const dirs = [
  ...['packages', 'apps'].flatMap((group) => readdirSync(group).map((name) => join(group, name))),
  'e2e',
];
{
  for (const dir of dirs) {
    const report = join(dir, 'test-results.json');
    if (!existsSync(join(dir, 'package.json'))) continue;
    if (!existsSync(report)) {
      rows.push(`${dir}: no test report`);
      failed += 1;
      continue;
    }
    const json = JSON.parse(readFileSync(report, 'utf8'));
    const pending = json.numPendingTests + (json.numTodoTests ?? 0);
    rows.push(`${dir}: ${json.numPassedTests} passed, ${json.numFailedTests} failed, ${pending} skipped`);
    passed += json.numPassedTests;
    failed += json.numFailedTests + (json.success ? 0 : json.numFailedTests === 0 ? 1 : 0);
    skipped += pending;
  }
}
console.log(`\ntest counts (${label}):`);
for (const row of rows) console.log(`  ${row}`);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
const runs = existsSync(ledger) ? JSON.parse(readFileSync(ledger, 'utf8')) : [];
writeFileSync(
  ledger,
  JSON.stringify([...runs.filter((run) => run.label !== label), { label, passed, failed }]),
);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
