// `fw dev` as a contender, and the edit-save-serve loop around it: shared by bench/dev-loop.mjs
// (fw dev against esbuild --watch + node --watch) and bench/release-build.mjs (one fw against
// another).
//
// An app here is `{ dir, setVersion(version) }`: `setVersion` rewrites the line
// `export const VERSION = '...';` of `<dir>/src/app.ts` (fs.writeFile of the whole file), and the
// app answers `GET /` with JSON that carries that version, so a poller can tell the new code apart.

import { existsSync } from 'node:fs';
import { cp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fwBin, makeTempDir, repoRoot, sleep, startGroup, waitForLine } from './procs.mjs';

export const exampleDir = path.join(repoRoot, 'apps', 'example');
const VERSION_LINE = /export const VERSION = '[^']*';/;
const DEV_READY_LINE = /fw dev\S*\s+\S*http:\/\/[^\s:]+:(\d+)/;

/** `setVersion` for the app in `dir`: its src/app.ts must hold a line `export const VERSION = '...';`. */
export async function versionedApp(dir) {
  const appFile = path.join(dir, 'src', 'app.ts');
  const original = await readFile(appFile, 'utf8');
  if (!VERSION_LINE.test(original)) throw new Error(`${appFile} has no line like "export const VERSION = '...';"`);
  return {
    dir,
    setVersion: (version) => writeFile(appFile, original.replace(VERSION_LINE, `export const VERSION = '${version}';`)),
  };
}

/**
 * A private copy of apps/example under test/.tmp/bench-<tag>-<random>/ (inside the repo, so fastify
 * and fw resolve from the workspace's node_modules); `setVersion` is the save of an edit.
 */
export async function copyExample(tag) {
  const dir = await makeTempDir(tag);
  await cp(exampleDir, dir, {
    recursive: true,
    filter: (source) => !/[/\\](node_modules|\.fw|test|\.turbo)$/.test(source),
  });
  // The example extends the repo's base config by a relative path: point the copy at it as well.
  const tsconfigFile = path.join(dir, 'tsconfig.json');
  const base = path.join(repoRoot, 'tsconfig.base.json');
  const relative = path.relative(dir, base).split(path.sep).join('/');
  const tsconfig = await readFile(tsconfigFile, 'utf8');
  const rewritten = tsconfig.replace(/("extends"\s*:\s*)"[^"]*"/, (_, key) => `${key}${JSON.stringify(relative)}`);
  const extendsValue = JSON.parse(rewritten).extends;
  if (path.resolve(dir, extendsValue) !== base || !existsSync(path.resolve(dir, extendsValue))) {
    throw new Error(`could not point ${tsconfigFile} at ${base} (extends is ${extendsValue})`);
  }
  await writeFile(tsconfigFile, rewritten);
  return versionedApp(dir);
}

/**
 * `fw dev <dir> --port 0 --debug` (`bin`: which fw; `spares`: its --spares) in its own process
 * group; resolves once its "fw dev http://…" line is out.
 */
export async function startFwDev(app, { bin = fwBin, spares, name = 'fw dev', timeoutMs = 30_000 } = {}) {
  const t0 = performance.now();
  const proc = startGroup(name, process.execPath, [bin, 'dev', app.dir, '--port', '0', '--debug', ...(spares === undefined ? [] : ['--spares', String(spares)])], {
    cwd: repoRoot,
    env: { LOG_LEVEL: 'warn' },
  });
  const ready = await waitForLine(proc, DEV_READY_LINE, timeoutMs);
  return {
    origin: `http://127.0.0.1:${ready.match[1]}`,
    procs: [proc],
    main: proc,
    startupMs: ready.line.at - t0,
    readyInMs: Number(ready.line.text.match(/ready in (\d+) ms/)?.[1] ?? Number.NaN),
  };
}

/**
 * The saves: for n = 1…count, `app.setVersion(version(n))`, then wait (up to `timeoutMs`) for the
 * first answer of `poller` (bench/lib/load's startRequestLoad with readVersion) carrying it;
 * `gapMs` after that answer, the next save. Save-to-serve = that answer's arrival minus the moment
 * the write began. Gives up after `maxTimeoutsInARow` saves in a row that were never served.
 */
export async function runSaves({ app, poller, version, count, gapMs, timeoutMs = 10_000, maxTimeoutsInARow = 3 }) {
  const saves = [];
  let aborted = null;
  let timeoutsInARow = 0;
  for (let n = 1; n <= count; n++) {
    const v = version(n);
    const from = poller.log.length;
    const savedAt = performance.now();
    await app.setVersion(v);
    const writtenAt = performance.now();
    const served = await poller.waitFor((e) => e.ok && e.version === v, timeoutMs, from);
    saves.push({ n, version: v, savedAt, writeMs: writtenAt - savedAt, servedAt: served?.at ?? null });
    timeoutsInARow = served ? 0 : timeoutsInARow + 1;
    if (timeoutsInARow >= maxTimeoutsInARow) {
      aborted = `${timeoutsInARow} saves in a row never served: gave up after save ${n}`;
      break;
    }
    await sleep(gapMs);
  }
  return { saves, aborted };
}

const FW_RELOADED = /reloaded in (\d+) ms \((.*)\)/;
const FW_BREAKDOWN =
  /wait (\d+) ms, build (\d+) ms, start worker (\d+) ms \((spare|cold)(?: = import (\d+) ms \+ app start (-?\d+) ms \+ handover)?\), total (\d+) ms/;

/**
 * What fw dev printed about the reloads of one save: the lines that arrived in
 * [save.savedAt, save.windowEnd). `--debug` adds the breakdown `wait X ms, build Y ms, start
 * worker Z ms (spare = import … + app start … + handover), total … ms`.
 */
export function fwDevLines(lines, save) {
  const reloads = [];
  const problems = [];
  let unchanged = 0;
  for (const line of lines) {
    if (line.at < save.savedAt || line.at >= save.windowEnd) continue;
    const reloaded = line.text.match(FW_RELOADED);
    if (reloaded) {
      reloads.push({ reloadedMs: Number(reloaded[1]), reason: reloaded[2], lineAfterSaveMs: line.at - save.savedAt });
      continue;
    }
    const b = line.text.match(FW_BREAKDOWN);
    if (b) {
      // The breakdown follows its "reloaded" line; one without it still gets a row of its own.
      if (!reloads.at(-1) || reloads.at(-1).breakdown) reloads.push({});
      const target = reloads.at(-1);
      target.breakdown = {
        waitMs: Number(b[1]),
        buildMs: Number(b[2]),
        startWorkerMs: Number(b[3]),
        start: b[4],
        importMs: b[5] === undefined ? null : Number(b[5]),
        appStartMs: b[6] === undefined ? null : Number(b[6]),
        totalMs: Number(b[7]),
      };
      // What is left of "start worker" after import and app start: IPC, listening, and (when a
      // save comes before the spare has finished warming up) the wait for the spare itself.
      target.breakdown.handoverMs = b[5] === undefined ? null : target.breakdown.startWorkerMs - Number(b[5]) - Number(b[6]);
      continue;
    }
    if (/did not change/.test(line.text)) unchanged++;
    if (/build failed|failed to start|keeps serving|fw dev: /.test(line.text)) problems.push(line.text.trim());
  }
  return { reloads, unchanged, problems };
}
