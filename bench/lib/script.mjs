// The command-line entry every bench shares when run on its own (`node bench/<name>.mjs`):
// parse --quick, arm the watchdog, run, write the result file and print its table, and leave no
// process group behind (a leftover one fails the run).

import { pathToFileURL } from 'node:url';
import { cleanup, installCleanupHandlers, isInterrupted, log, watchdog } from './procs.mjs';
import { parseCommonArgs, writeResult } from './results.mjs';

/** Whether the module at `moduleUrl` is the script node was started with (not imported by run.mjs). */
export function isMainModule(moduleUrl) {
  return moduleUrl === pathToFileURL(process.argv[1] ?? '').href;
}

/**
 * Runs one bench as a script and exits. `run(options, prepared)` measures and resolves with the
 * result, `table(result)` renders it as markdown; `limitS` bounds the whole run (quick, full).
 * `prepare(options)`, if given, runs first, outside that bound (it must bound itself): setup that
 * may take minutes the first time, such as installing a baseline.
 */
export async function runBenchScript({ name, run, table, prepare, limitS = { quick: 90, full: 600 } }) {
  installCleanupHandlers(name);
  let exitCode = 0;
  let options;
  try {
    options = parseCommonArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${name}: ${error.message}\nusage: node bench/${name}.mjs [--quick]\n`);
    process.exit(2);
  }
  let disarm = () => undefined;
  try {
    const prepared = prepare ? await prepare(options) : undefined;
    disarm = watchdog(name, (options.quick ? limitS.quick : limitS.full) * 1000);
    const result = await run(options, prepared);
    if (isInterrupted()) await new Promise(() => undefined); // the signal handler exits
    const file = await writeResult(name, options.quick, result);
    process.stdout.write(`\n${table(result)}\n\n`);
    log(name, `wrote ${file}`);
  } catch (error) {
    process.stderr.write(`${name}: ${error?.stack ?? error}\n`);
    exitCode = 1;
  } finally {
    const left = await cleanup();
    if (left.length) {
      process.stderr.write(`${name}: process groups left: ${left.join(', ')}\n`);
      exitCode = 1;
    }
    disarm();
  }
  process.exit(exitCode);
}
