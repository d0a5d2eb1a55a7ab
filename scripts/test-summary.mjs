// Adds up the vitest JSON reports every workspace wrote during `npm test`, and those of the
// integration tests' runs on other Node.js versions, and prints one closing line,
// `N passed, N failed`, so a CI log shows at a glance what ran (a run of no tests shows 0 passed).
//
// Each run on another version is named by an argument MAJOR:WHAT[:VERSION], for example
// `24:integration:24.22.3` or `22:smoke:22.23.5`; its report is test/test-results.nodeMAJOR.json.
// A run without VERSION is one whose Node.js could not be fetched: it counts as 1 failed.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(fileURLToPath(new URL('..', import.meta.url)));
const workspaces = ['packages', 'apps']
  .flatMap((group) => readdirSync(path.join(root, group)).map((name) => path.join(group, name)))
  .concat(['test']);

/** A report's counts; a test file that failed before any of its tests ran counts as 1 failed. */
function counts(report) {
  const result = JSON.parse(readFileSync(report, 'utf8'));
  const unloaded = (result.testResults ?? []).filter((file) => file.status === 'failed' && !file.assertionResults?.length).length;
  const starts = (result.testResults ?? []).map((file) => file.startTime).filter(Number.isFinite);
  const ends = (result.testResults ?? []).map((file) => file.endTime).filter(Number.isFinite);
  return {
    passed: result.numPassedTests,
    failed: result.numFailedTests + unloaded,
    skipped: result.numPendingTests + (result.numTodoTests ?? 0),
    seconds: starts.length && ends.length ? (Math.max(...ends) - Math.min(result.startTime ?? Infinity, ...starts)) / 1000 : undefined,
  };
}

const duration = (seconds) => (seconds === undefined ? '' : `, ${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`);
const total = { passed: 0, failed: 0, skipped: 0 };
const add = (run) => {
  total.passed += run.passed;
  total.failed += run.failed;
  total.skipped += run.skipped;
};

const main = { passed: 0, failed: 0, skipped: 0 };
for (const workspace of workspaces) {
  const manifest = path.join(root, workspace, 'package.json');
  if (!existsSync(manifest) || !JSON.parse(readFileSync(manifest, 'utf8')).scripts?.test) continue;
  const report = path.join(root, workspace, 'test-results.json');
  if (!existsSync(report)) {
    console.log(`${workspace}: no test report (its tests did not run)`);
    main.failed++;
    continue;
  }
  const run = counts(report);
  main.passed += run.passed;
  main.failed += run.failed;
  main.skipped += run.skipped;
  console.log(`${workspace}: ${run.passed} passed, ${run.failed} failed`);
}
add(main);

const runs = process.argv.slice(2);
const versions = [`${process.versions.node} (npm test)`];
if (runs.length) console.log(`Node.js ${process.versions.node}, npm test: ${main.passed} passed, ${main.failed} failed`);
for (const argument of runs) {
  const [major, what = 'integration', version] = argument.split(':');
  const report = path.join(root, 'test', `test-results.node${major}.json`);
  if (!version) {
    console.log(`Node.js ${major}, ${what}: could not be fetched, counted as 1 failed`);
    versions.push(`${major} (${what}: not fetched)`);
    total.failed++;
  } else if (!existsSync(report)) {
    console.log(`Node.js ${version}, ${what}: no test report (its run did not finish), counted as 1 failed`);
    versions.push(`${version} (${what}: did not finish)`);
    total.failed++;
  } else {
    const run = counts(report);
    add(run);
    console.log(`Node.js ${version}, ${what}: ${run.passed} passed, ${run.failed} failed${duration(run.seconds)}`);
    versions.push(`${version} (${what})`);
  }
}
if (runs.length) console.log(`Node.js versions: ${versions.join(', ')}`);
console.log(`${total.passed} passed, ${total.failed} failed${total.skipped ? `, ${total.skipped} skipped` : ''}`);
