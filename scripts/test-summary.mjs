// Adds up the vitest JSON reports every workspace wrote during `npm test` and prints one line,
// `N passed, N failed`, so a CI log shows at a glance what ran (a run of no tests shows 0 passed).
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(fileURLToPath(new URL('..', import.meta.url)));
const workspaces = ['packages', 'apps']
  .flatMap((group) => readdirSync(path.join(root, group)).map((name) => path.join(group, name)))
  .concat(['test']);

let passed = 0;
let failed = 0;
let skipped = 0;
for (const workspace of workspaces) {
  const manifest = path.join(root, workspace, 'package.json');
  if (!existsSync(manifest) || !JSON.parse(readFileSync(manifest, 'utf8')).scripts?.test) continue;
  const report = path.join(root, workspace, 'test-results.json');
  if (!existsSync(report)) {
    console.log(`${workspace}: no test report (its tests did not run)`);
    failed++;
    continue;
  }
  const result = JSON.parse(readFileSync(report, 'utf8'));
  passed += result.numPassedTests;
  failed += result.numFailedTests;
  skipped += result.numPendingTests + (result.numTodoTests ?? 0);
  console.log(`${workspace}: ${result.numPassedTests} passed, ${result.numFailedTests} failed`);
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
