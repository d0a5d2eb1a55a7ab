#!/usr/bin/env node
// Releases that keep the app's layout (HEAD) against the single esbuild bundle they replaced
// (commit 6c997c3, "the baseline"), measured side by side in one run. The baseline fw is a git
// worktree of 6c997c3 in the system's temp folder (`fw-baseline-6c997c3`), installed with npm ci
// (npm install if its lockfile is out of sync) and built with turbo the first time, reused as it
// is afterwards. HEAD's fw is this repo's own build (turbo, cached) while packages/ is as
// committed; when it holds uncommitted work, a second worktree (`fw-head`, moved to each new HEAD)
// so that HEAD means the commit. Both are prepared before any clock starts; remove them with
// `git worktree remove --force <folder>`.
//
// Two apps, each copied once per fw into test/.tmp/ (inside the repo, so fastify and zod resolve
// from the workspace's node_modules):
//   example    apps/example, copied the way bench/dev-loop.mjs copies it
//   generated  a Fastify 5 app written by this script: src/app.ts registers 50 group plugins
//              (src/areas/a<i>/g<j>/index.ts), each registering 9 route modules beside it; each
//              route module imports one or two siblings and src/lib/util.ts, every third one builds
//              a zod schema, the others plain objects: 502 modules in all
// Both have the shape the baseline's fw needs: src/app.ts default-exports a factory, and holds a
// line `export const VERSION = '…';` that an edit rewrites; GET / answers with that version.
//
// Per app, rounds in which the two fws take turns, one at a time (2 cores), the order alternating:
//   build     `fw build <copy>`: wall time of the command, and the ms it prints
//   boot      `fw start <copy> --workers 1 --port 0`: spawn → its "serving" line; the master's
//             "generation 1 ready in N ms" and the worker's own import/boot (fw status)
//   reload    under a light kept-alive load (bench/lib/load's startRequestLoad: few connections, a
//             pause after each answer, never retrying, every request counted): edit VERSION,
//             `fw build`, SIGHUP to the master (the rollout `fw reload` asks for over the control
//             socket) → the first answer carrying the new version; then the old worker exits
//   dev       `fw dev <copy> --debug`: the saves of bench/dev-loop.mjs (bench/lib/dev.mjs): write
//             → the first answer of the new version on one kept-alive poller, and fw dev's own
//             `wait X ms, build Y ms, start worker Z ms (…)` line for each save
// Figures are medians over every sample of a contender; ratios are HEAD / baseline.
//
// Usage: node bench/release-build.mjs [--quick]   (writes bench/results/release-build.json, or
//        release-build.quick.tmp with --quick; prints a markdown table). Also a phase of
//        bench/run.mjs (`--only release-build`).

import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { copyExample, fwDevLines, runSaves, startFwDev, versionedApp } from './lib/dev.mjs';
import { fwCommand, startFw, whenGone } from './lib/fw-process.mjs';
import { startRequestLoad } from './lib/load.mjs';
import { fwBin, log, makeTempDir, removeTempDir, repoRoot, sleep, startGroup, stopGroup, waitForExit } from './lib/procs.mjs';
import { machine, runClock } from './lib/results.mjs';
import { isMainModule, runBenchScript } from './lib/script.mjs';
import { median, quantile, ratio, rotate, round, sum } from './lib/stats.mjs';

const NAME = 'release-build';
const say = (text) => log(NAME, text);
export const BASELINE_COMMIT = '6c997c3';
const BASELINE_FOLDER = `fw-baseline-${BASELINE_COMMIT}`;
/** HEAD's fw when packages/ holds someone's uncommitted work: one worktree, moved to each new HEAD. */
const HEAD_FOLDER = 'fw-head';
/** Written into the worktree's node_modules once it is installed and built: the next run reuses it. */
const READY_MARK = '.fw-bench-baseline-ready';
const CONTENDERS = ['baseline', 'head'];
const APPS = ['example', 'generated'];
const GENERATED = { areas: 10, groups: 5, routes: 9 };

export function releaseBuildConfig(quick) {
  return quick
    ? { rounds: 1, reloadsPerRound: 1, devSessions: 1, savesPerSession: 3, gapMs: 300, settleMs: 1_000, loadConnections: 2, loadPauseMs: 10, warmMs: 300, afterMs: 200, pauseBetweenMs: 300 }
    : { rounds: 5, reloadsPerRound: 2, devSessions: 2, savesPerSession: 10, gapMs: 300, settleMs: 1_000, loadConnections: 2, loadPauseMs: 10, warmMs: 500, afterMs: 500, pauseBetweenMs: 1_000 };
}

// ─────────────────────────────────────────────────────── the baseline fw ──

/** Runs a command in its own process group to the end, bounded; rejects with its output's tail if it fails. */
async function runToEnd(name, command, args, { cwd = repoRoot, env = {}, timeoutMs }) {
  const proc = startGroup(name, command, args, { cwd, env });
  const exited = await waitForExit(proc, timeoutMs);
  if (!exited) {
    await stopGroup(proc, { signal: null });
    throw new Error(`${name} did not finish within ${Math.round(timeoutMs / 1000)} s:\n${proc.tail(20)}`);
  }
  await stopGroup(proc, { signal: null }); // anything it left behind in its group
  const output = proc.lines.map((line) => line.text).join('\n');
  if (proc.exitInfo !== 'code 0') throw Object.assign(new Error(`${name} failed (${proc.exitInfo}):\n${proc.tail(20)}`), { output });
  return { output, stdout: proc.lines.filter((line) => line.stream === 'stdout').map((line) => line.text).join('\n'), ms: round(proc.exitedAt - proc.startedAt, 0) };
}

/**
 * An fw from a git worktree of `commit` in the temp folder (`folder`, this bench's own: moved to
 * `commit` if it holds another), installed (npm ci, or npm install when the lockfile is out of
 * sync) and built (turbo: fw and what it depends on) unless a run did that already for this
 * commit. Bounded: a first install takes a minute or so, a reuse milliseconds.
 */
async function prepareWorktree(commit, folder) {
  const dir = path.join(os.tmpdir(), folder);
  const steps = {};
  if (!existsSync(dir)) {
    say(`creating a git worktree of ${commit.slice(0, 7)} in the temp folder (${folder})`);
    // --force: also when git still lists a worktree there whose folder was deleted.
    steps.worktreeAddMs = (await runToEnd('git worktree add', 'git', ['worktree', 'add', '--force', '--detach', dir, commit], { timeoutMs: 120_000 })).ms;
  }
  const checkedOut = (await runToEnd('git rev-parse', 'git', ['-C', dir, 'rev-parse', 'HEAD'], { timeoutMs: 20_000 })).stdout.trim();
  if (checkedOut !== commit) {
    say(`${folder}: checking out ${commit.slice(0, 7)} (it held ${checkedOut.slice(0, 7)})`);
    steps.checkoutMs = (await runToEnd('git checkout', 'git', ['-C', dir, 'checkout', '--force', '--detach', commit], { timeoutMs: 120_000 })).ms;
  }
  const mark = path.join(dir, 'node_modules', READY_MARK);
  const ready = existsSync(mark) && (await readFile(mark, 'utf8')).trim() === commit;
  if (!ready) {
    say(`${folder}: npm ci`);
    try {
      steps.npmCiMs = (await runToEnd('npm ci', 'npm', ['ci', '--no-audit', '--no-fund'], { cwd: dir, timeoutMs: 900_000 })).ms;
    } catch (error) {
      if (!/in sync|npm install/i.test(error.output ?? '')) throw error;
      say(`${folder}: npm ci says the lockfile is out of sync; npm install instead`);
      steps.npmInstallMs = (await runToEnd('npm install', 'npm', ['install', '--no-audit', '--no-fund'], { cwd: dir, timeoutMs: 900_000 })).ms;
    }
    say(`${folder}: turbo run build --filter=fwjs...`);
    steps.turboBuildMs = await buildFw(dir);
    await writeFile(mark, `${commit}\n`);
  }
  const bin = path.join(dir, 'packages', 'cli', 'bin', 'fw.js');
  if (!existsSync(bin) || !existsSync(path.join(dir, 'packages', 'cli', 'dist', 'main.js'))) throw new Error(`the fw in ${dir} is not built`);
  return { commit, bin, where: path.join('$TMPDIR', folder), reused: Object.keys(steps).length === 0, setupMs: steps };
}

/** `turbo run build --filter=fwjs...` in `dir` (cached by turbo when nothing changed); its ms. */
async function buildFw(dir) {
  const run = await runToEnd('turbo build', 'npx', ['turbo', 'run', 'build', '--filter=fwjs...', '--output-logs=errors-only'], {
    cwd: dir,
    env: { TURBO_TELEMETRY_DISABLED: '1' },
    timeoutMs: 900_000,
  });
  return run.ms;
}

async function commitOf(ref) {
  return (await runToEnd('git rev-parse', 'git', ['rev-parse', `${ref}^{commit}`], { timeoutMs: 20_000 })).stdout.trim();
}

/**
 * Both fws, before any clock starts. The baseline: a worktree of 6c997c3. HEAD: this repo's own
 * build when packages/ is as committed; when someone's work in progress has changed it, a worktree
 * of the HEAD commit, so that "HEAD" means the commit (recorded in the result either way).
 */
export async function prepareReleaseBuild() {
  const baseline = await prepareWorktree(await commitOf(BASELINE_COMMIT), BASELINE_FOLDER);
  const commit = await commitOf('HEAD');
  const status = (await runToEnd('git status', 'git', ['status', '--porcelain', '--', 'packages'], { timeoutMs: 20_000 })).stdout;
  const packagesChanged = status.split('\n').map((line) => line.trim()).filter(Boolean);
  let head;
  if (packagesChanged.length === 0) {
    // As `npm run bench` does: dist/ may be older than the sources (turbo's cache makes this quick).
    head = { commit, bin: fwBin, where: 'this repo', reused: true, setupMs: { turboBuildMs: await buildFw(repoRoot) } };
  } else {
    say(`packages/ differs from HEAD (${packagesChanged.length} paths): HEAD's fw comes from a worktree of ${commit.slice(0, 7)}`);
    head = await prepareWorktree(commit, HEAD_FOLDER);
  }
  head.packagesChangedInRepo = packagesChanged;
  return { baseline, head };
}

// ──────────────────────────────────────────────────────────── the apps ──

/**
 * Writes the generated app into a fresh folder under test/.tmp/: 450 route modules in 50 folders
 * (src/areas/a<i>/g<j>/r<k>.ts), a plugin per folder registering its 9 routes (index.ts), a shared
 * src/lib/util.ts, and src/app.ts registering the 50 group plugins. 502 modules.
 */
export async function generateApp(tag) {
  const dir = await makeTempDir(tag);
  const files = new Map();
  files.set('package.json', `${JSON.stringify({ name: 'bench-generated-app', version: '0.0.0', private: true, type: 'module' }, null, 2)}\n`);
  files.set(
    'tsconfig.json',
    `${JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, skipLibCheck: true, noEmit: true }, include: ['src'] }, null, 2)}\n`,
  );
  files.set(
    'src/lib/util.ts',
    `// Shared by every route module.
export function score(name: string): number {
  let hash = 7;
  for (const char of name) hash = (hash * 31 + char.charCodeAt(0)) % 1009;
  return hash;
}

export function label(name: string): string {
  return \`route \${name}\`;
}

export interface RouteInfo {
  route: string;
  weight: number;
}
`,
  );
  const groups = [];
  for (let a = 0; a < GENERATED.areas; a++) {
    for (let g = 0; g < GENERATED.groups; g++) {
      const folder = `src/areas/a${a}/g${g}`;
      groups.push({ a, g, folder });
      for (let r = 0; r < GENERATED.routes; r++) files.set(`${folder}/r${r}.ts`, routeModule(a, g, r));
      files.set(
        `${folder}/index.ts`,
        `import type { FastifyPluginAsync } from 'fastify';
${Array.from({ length: GENERATED.routes }, (_, r) => `import r${r} from './r${r}.js';`).join('\n')}

/** Area ${a}, group ${g}: its ${GENERATED.routes} routes. */
const group: FastifyPluginAsync = async (app) => {
${Array.from({ length: GENERATED.routes }, (_, r) => `  await app.register(r${r});`).join('\n')}
};

export default group;
`,
      );
    }
  }
  files.set(
    'src/app.ts',
    `import Fastify from 'fastify';
${groups.map(({ a, g }) => `import a${a}g${g} from './areas/a${a}/g${g}/index.js';`).join('\n')}

/** Changed by the bench's edits; \`GET /\` shows which version answered. */
export const VERSION = 'v1';

export default async function createApp() {
  const app = Fastify({ logger: { level: process.env.LOG_LEVEL ?? 'info' } });
  app.get('/', async (_request, reply) => {
    reply.header('x-worker', String(process.pid));
    return { hello: 'world', version: VERSION, pid: process.pid };
  });
${groups.map(({ a, g }) => `  await app.register(a${a}g${g}, { prefix: '/a${a}/g${g}' });`).join('\n')}
  return app;
}
`,
  );
  for (const [file, text] of files) {
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await writeFile(path.join(dir, file), text);
  }
  return { ...(await versionedApp(dir)), modules: [...files.keys()].filter((file) => file.endsWith('.ts')).length };
}

/** One route module: imports one or two siblings and the shared util; every third builds a zod schema. */
function routeModule(a, g, r) {
  const name = `a${a}/g${g}/r${r}`;
  const siblings = r === 0 ? [] : r % 2 === 0 && r > 1 ? [r - 1, r - 2] : [r - 1];
  const zod = r % 3 === 0;
  const lines = [`import type { FastifyPluginAsync } from 'fastify';`];
  if (zod) lines.push(`import { z } from 'zod';`);
  lines.push(`import { label, score, type RouteInfo } from '../../../lib/util.js';`);
  for (const s of siblings) lines.push(`import { weight as w${s} } from './r${s}.js';`);
  lines.push('');
  if (zod) {
    lines.push(
      'const Query = z.object({',
      '  n: z.coerce.number().int().min(0).max(1000).default(1),',
      `  tag: z.enum(['a${a}', 'g${g}', 'r${r}']).optional(),`,
      '  verbose: z.coerce.boolean().default(false),',
      '});',
    );
  } else {
    lines.push(
      'const table = {',
      `  id: '${name.replaceAll('/', '-')}',`,
      `  tags: ['a${a}', 'g${g}', 'r${r}'],`,
      `  limits: { min: ${r}, max: ${(r + 1) * 100} },`,
      `  owner: { team: 'team-${a}', oncall: ${g % 2 === 0} },`,
      '};',
    );
  }
  lines.push('', `export const weight: number = score('${name}')${siblings.map((s) => ` + w${s}`).join('')};`, '');
  lines.push('const routes: FastifyPluginAsync = async (app) => {');
  if (zod) {
    lines.push(
      `  app.get('/r${r}', async (request): Promise<RouteInfo & { n: number }> => {`,
      '    const query = Query.parse(request.query);',
      `    return { route: label('${name}'), weight: weight * query.n, n: query.n };`,
      '  });',
    );
  } else {
    lines.push(`  app.get('/r${r}', async (): Promise<RouteInfo & { table: typeof table }> => ({ route: label('${name}'), weight, table }));`);
  }
  lines.push('};', '', 'export default routes;', '');
  return lines.join('\n');
}

async function makeApp(appName, contender) {
  const tag = `release-${appName}-${contender}`;
  if (appName === 'example') {
    const app = await copyExample(tag);
    app.modules = (await listFiles(path.join(app.dir, 'src'))).filter((file) => file.endsWith('.ts')).length;
    return app;
  }
  return generateApp(tag);
}

async function listFiles(dir) {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => path.join(entry.parentPath ?? entry.path, entry.name));
}

// ─────────────────────────────────────────────────────────── measuring ──

/** `fw build <dir>`: wall time of the command and what it prints. */
async function timedBuild(fw, app) {
  const t0 = performance.now();
  const { stdout } = await fwCommand(['build', app.dir], { bin: fw.bin, timeoutMs: 120_000 });
  const wallMs = performance.now() - t0;
  const printed = stdout.match(/ in (\d+) ms/);
  const files = stdout.match(/, (\d+) files\)/);
  return { wallMs: round(wallMs), printedMs: printed ? Number(printed[1]) : null, files: files ? Number(files[1]) : null };
}

/** One round of one fw on one app: a build, a start, then reloads under a light load. */
async function startRound(fw, app, config, round_) {
  const version = (k) => `${fw.name}-${round_}-${k}`;
  const sample = { contender: fw.name, round: round_, loadavg: os.loadavg().map((x) => round(x, 2)), builds: [], boot: null, reloads: [] };
  await app.setVersion(version(0));
  sample.builds.push(await timedBuild(fw, app));
  const server = await startFw(app, { workers: 1, bin: fw.bin, name: `fw start (${fw.name})`, timeoutMs: 60_000 });
  let load = null;
  try {
    const rollout = await server.firstRollout(10_000);
    const status = await server.quickStatus().catch(() => null);
    const worker = status?.workers?.[0];
    sample.boot = {
      servingLineMs: round(server.servingAt - server.proc.startedAt),
      readyInMs: rollout.rolloutMs,
      workerSpawnToReadyMs: worker?.readyAt ? round(worker.readyAt - worker.startedAt) : null,
      workerImportMs: worker?.bootTimings?.importMs ?? null,
      workerBootMs: worker?.bootTimings?.bootMs ?? null,
    };
    load = startRequestLoad(server.origin, { connections: config.loadConnections, pauseMs: config.loadPauseMs, readVersion: true });
    const first = await load.waitFor((e) => e.ok && e.version === version(0), 10_000, 0);
    if (!first) throw new Error(`${fw.name}: no answer from ${version(0)} within 10 s:\n${server.proc.tail()}`);
    await sleep(config.warmMs);
    for (let k = 1; k <= config.reloadsPerRound; k++) {
      await app.setVersion(version(k));
      sample.builds.push(await timedBuild(fw, app));
      const oldPids = server.workerPids();
      const from = load.log.length;
      const hup = await server.reload(60_000);
      const served = await load.waitFor((e) => e.ok && e.version === version(k), 30_000, from);
      const gone = await whenGone(oldPids, 15_000);
      sample.reloads.push({
        hupToServingMs: served ? round(served.at - hup.sentAt) : null,
        hupToReadyLineMs: round(hup.readyLineAt - hup.sentAt),
        rolloutMs: hup.rolloutMs,
        oldWorkerExited: gone,
      });
      await sleep(config.afterMs);
    }
  } finally {
    if (load) {
      const entries = await load.stop();
      const failed = entries.filter((e) => !e.ok);
      const kinds = {};
      for (const e of failed) kinds[e.error ?? `HTTP ${e.status}`] = (kinds[e.error ?? `HTTP ${e.status}`] ?? 0) + 1;
      sample.load = { requests: entries.length, failed: failed.length, failures: kinds, connectionsOpened: load.connects.length };
    }
    await server.stop();
  }
  return sample;
}

/** One fw dev session: start, then the saves of bench/dev-loop.mjs, each timed from the write to the new version's first answer. */
async function devSession(fw, app, config, session) {
  const version = (n) => `${fw.name}-dev-${session}-${String(n).padStart(2, '0')}`;
  await app.setVersion(version(0));
  const started = await startFwDev(app, { bin: fw.bin, name: `fw dev (${fw.name})`, timeoutMs: 60_000 });
  const poller = startRequestLoad(started.origin, { connections: 1, pauseMs: 5, readVersion: true });
  const result = { contender: fw.name, session, loadavg: os.loadavg().map((x) => round(x, 2)), readyInMs: started.readyInMs, saves: [], aborted: null };
  let saves = [];
  try {
    const first = await poller.waitFor((e) => e.ok && e.version === version(0), 15_000, 0);
    if (!first) throw new Error(`${fw.name}: fw dev never answered with ${version(0)}:\n${started.main.tail()}`);
    await sleep(config.settleMs); // the warm spares get ready, as in bench/dev-loop.mjs
    const run = await runSaves({ app, poller, version, count: config.savesPerSession, gapMs: config.gapMs });
    saves = run.saves;
    result.aborted = run.aborted;
  } finally {
    const stoppedAt = performance.now();
    const entries = await poller.stop();
    await stopGroup(started.main, { signal: null });
    saves.forEach((save, i) => {
      save.windowEnd = saves[i + 1]?.savedAt ?? stoppedAt;
    });
    result.saves = saves.map((save) => {
      const lines = fwDevLines(started.main.lines, save);
      return {
        n: save.n,
        saveToServeMs: save.servedAt === null ? null : round(save.servedAt - save.savedAt),
        debug: lines.reloads.find((r) => r.breakdown)?.breakdown ?? null,
        reloads: lines.reloads.filter((r) => r.reloadedMs !== undefined).length,
        problems: lines.problems,
      };
    });
    result.requests = entries.length;
    result.failed = entries.filter((e) => !e.ok).length;
  }
  return result;
}

/** Both fws on one app: the start/reload rounds, then the dev sessions, each pair in alternating order. */
async function measureApp(appName, fws, config) {
  const apps = {};
  for (const name of CONTENDERS) apps[name] = await makeApp(appName, name);
  const rounds = [];
  const dev = [];
  try {
    for (let r = 0; r < config.rounds; r++) {
      for (const name of rotate(CONTENDERS, r)) {
        const sample = await startRound(fws[name], apps[name], config, r);
        rounds.push(sample);
        say(
          `${appName} round ${r + 1}/${config.rounds} ${name}: build ${sample.builds.map((b) => `${b.wallMs} ms (says ${b.printedMs})`).join(', ')}; ` +
            `serving after ${sample.boot.servingLineMs} ms (ready in ${sample.boot.readyInMs} ms); HUP → serving ${sample.reloads.map((x) => x.hupToServingMs).join(', ')} ms; failed ${sample.load?.failed}`,
        );
        await sleep(config.pauseBetweenMs);
      }
    }
    for (let s = 0; s < config.devSessions; s++) {
      for (const name of rotate(CONTENDERS, s + 1)) {
        const session = await devSession(fws[name], apps[name], config, s);
        dev.push(session);
        say(
          `${appName} dev ${s + 1}/${config.devSessions} ${name}: save-to-serve ${session.saves.map((x) => x.saveToServeMs).join(', ')} ms; ` +
            `fw dev build ${session.saves.map((x) => x.debug?.buildMs ?? '–').join(', ')} ms; failed ${session.failed}`,
        );
        await sleep(config.pauseBetweenMs);
      }
    }
  } finally {
    for (const app of Object.values(apps)) await removeTempDir(app.dir);
  }
  return { modules: apps.head.modules, rounds, dev, summary: summarizeApp(rounds, dev) };
}

// ─────────────────────────────────────────────────────────────── numbers ──

function summarizeApp(rounds, dev) {
  const per = {};
  for (const name of CONTENDERS) {
    const mine = rounds.filter((s) => s.contender === name);
    const builds = mine.flatMap((s) => s.builds);
    const reloads = mine.flatMap((s) => s.reloads);
    const sessions = dev.filter((s) => s.contender === name);
    const saves = sessions.flatMap((s) => s.saves);
    const debug = saves.map((s) => s.debug).filter(Boolean);
    const med = (values, digits = 0) => round(median(values), digits);
    const debugMed = (key) => med(debug.map((d) => d[key]).filter((x) => x !== null));
    per[name] = {
      builds: builds.length,
      buildWallMs: med(builds.map((b) => b.wallMs)),
      buildPrintedMs: med(builds.map((b) => b.printedMs)),
      buildFiles: builds.find((b) => b.files !== null)?.files ?? null,
      boots: mine.length,
      bootServingLineMs: med(mine.map((s) => s.boot?.servingLineMs)),
      bootReadyInMs: med(mine.map((s) => s.boot?.readyInMs)),
      workerImportMs: med(mine.map((s) => s.boot?.workerImportMs)),
      workerBootMs: med(mine.map((s) => s.boot?.workerBootMs)),
      reloads: reloads.length,
      hupToServingMs: med(reloads.map((x) => x.hupToServingMs)),
      hupToReadyLineMs: med(reloads.map((x) => x.hupToReadyLineMs)),
      reloadsNeverServed: reloads.filter((x) => x.hupToServingMs === null).length,
      reloadRequests: sum(mine.map((s) => s.load?.requests ?? 0)),
      reloadFailedRequests: sum(mine.map((s) => s.load?.failed ?? 0)),
      saves: saves.length,
      savesNeverServed: saves.filter((s) => s.saveToServeMs === null).length,
      devSaveToServeMs: med(saves.map((s) => s.saveToServeMs)),
      devSaveToServeP90Ms: round(quantile(saves.map((s) => s.saveToServeMs), 0.9), 0),
      devFailedRequests: sum(sessions.map((s) => s.failed)),
      devRequests: sum(sessions.map((s) => s.requests)),
      devDebug: {
        waitMs: debugMed('waitMs'),
        buildMs: debugMed('buildMs'),
        startWorkerMs: debugMed('startWorkerMs'),
        importMs: debugMed('importMs'),
        appStartMs: debugMed('appStartMs'),
        handoverMs: debugMed('handoverMs'),
        totalMs: debugMed('totalMs'),
        workerFrom: countValues(debug.map((d) => d.start)),
      },
      devProblems: saves.flatMap((s) => s.problems),
      devReadyInMs: med(sessions.map((s) => s.readyInMs)),
    };
  }
  const b = per.baseline;
  const h = per.head;
  const r = (key) => ratio(h[key], b[key], 2);
  return {
    ...per,
    ratios: {
      buildWall: r('buildWallMs'),
      buildPrinted: r('buildPrintedMs'),
      bootServingLine: r('bootServingLineMs'),
      bootReadyIn: r('bootReadyInMs'),
      workerImport: r('workerImportMs'),
      hupToServing: r('hupToServingMs'),
      devSaveToServe: r('devSaveToServeMs'),
      devBuild: ratio(h.devDebug.buildMs, b.devDebug.buildMs, 2),
      devImport: ratio(h.devDebug.importMs, b.devDebug.importMs, 2),
    },
  };
}

function countValues(values) {
  const counts = {};
  for (const v of values) counts[v] = (counts[v] ?? 0) + 1;
  return counts;
}

// ─────────────────────────────────────────────────────────────── the run ──

/** `fws`: from prepareReleaseBuild() (done before the clock starts: it may install for minutes). */
export async function runReleaseBuild({ quick = false, fws: given } = {}) {
  const config = releaseBuildConfig(quick);
  const loadavgAtStart = machine().loadavg;
  const clock = runClock(NAME, { quick, config });
  const prepared = given ?? (await prepareReleaseBuild());
  const fws = { baseline: { name: 'baseline', bin: prepared.baseline.bin }, head: { name: 'head', bin: prepared.head.bin } };
  const apps = {};
  for (const appName of APPS) {
    say(`── ${appName}`);
    apps[appName] = await measureApp(appName, fws, config);
  }
  const { bin: _baselineBin, ...baseline } = prepared.baseline;
  const { bin: _headBin, ...head } = prepared.head;
  const result = {
    ...clock.header(),
    loadavgAtStart,
    loadavgAtEnd: machine().loadavg,
    baseline,
    head,
    apps,
  };
  result.summary = {
    ...Object.fromEntries(APPS.map((appName) => [appName, { modules: apps[appName].modules, ratios: apps[appName].summary.ratios }])),
    loadavgAtStart,
    loadavgAtEnd: result.loadavgAtEnd,
  };
  return result;
}

export function releaseBuildTable(result) {
  const c = result.config;
  const v = (x, unit = ' ms') => (x === null || x === undefined ? '–' : `${x}${unit}`);
  const x = (x) => (x === null || x === undefined ? '–' : `**${x}**`);
  const header = ['| measure (medians) |'];
  const rule = ['| --- |'];
  for (const appName of APPS) {
    const a = result.apps[appName];
    header.push(` ${appName} (${a.modules} modules): 6c997c3 | HEAD | HEAD / 6c997c3 |`);
    rule.push(' ---: | ---: | ---: |');
  }
  const rows = [
    ['`fw build`, wall time of the command', (s) => [s.baseline.buildWallMs, s.head.buildWallMs, s.ratios.buildWall]],
    ['`fw build`, the ms it prints', (s) => [s.baseline.buildPrintedMs, s.head.buildPrintedMs, s.ratios.buildPrinted]],
    ['`fw start --workers 1`: spawn → "serving" line', (s) => [s.baseline.bootServingLineMs, s.head.bootServingLineMs, s.ratios.bootServingLine]],
    ['… its "generation 1 ready in N ms"', (s) => [s.baseline.bootReadyInMs, s.head.bootReadyInMs, s.ratios.bootReadyIn]],
    ["… the worker's import of the build", (s) => [s.baseline.workerImportMs, s.head.workerImportMs, s.ratios.workerImport]],
    ['HUP → new version serving (after an edit + `fw build`)', (s) => [s.baseline.hupToServingMs, s.head.hupToServingMs, s.ratios.hupToServing]],
    ['`fw dev`: save → new version serving', (s) => [s.baseline.devSaveToServeMs, s.head.devSaveToServeMs, s.ratios.devSaveToServe]],
    ['… fw dev --debug "build"', (s) => [s.baseline.devDebug.buildMs, s.head.devDebug.buildMs, s.ratios.devBuild]],
    ['… fw dev --debug "import" (warm spare)', (s) => [s.baseline.devDebug.importMs, s.head.devDebug.importMs, s.ratios.devImport]],
  ];
  const lines = [
    `Releases that keep the layout (HEAD) vs the single bundle (6c997c3): ${c.rounds} round(s) per app of build + start + ${c.reloadsPerRound} reload(s) under ${c.loadConnections} kept-alive connections, ${c.devSessions} fw dev session(s) of ${c.savesPerSession} saves; the two fws one at a time, order alternating`,
    '',
    `${header.join('')}`,
    `${rule.join('')}`,
  ];
  for (const [label, pick] of rows) {
    lines.push(`| ${label} |${APPS.map((appName) => {
      const [b, h, r] = pick(result.apps[appName].summary);
      return ` ${v(b)} | ${v(h)} | ${x(r)} |`;
    }).join('')}`);
  }
  lines.push(
    `| failed requests: reloads / dev saves |${APPS.map((appName) => {
      const s = result.apps[appName].summary;
      return ` ${s.baseline.reloadFailedRequests} of ${s.baseline.reloadRequests} / ${s.baseline.devFailedRequests} of ${s.baseline.devRequests} | ${s.head.reloadFailedRequests} of ${s.head.reloadRequests} / ${s.head.devFailedRequests} of ${s.head.devRequests} | |`;
    }).join('')}`,
  );
  lines.push('');
  for (const appName of APPS) {
    const s = result.apps[appName].summary;
    const d = (p) => `wait ${v(p.devDebug.waitMs)}, build ${v(p.devDebug.buildMs)}, start worker ${v(p.devDebug.startWorkerMs)} (import ${v(p.devDebug.importMs)} + app start ${v(p.devDebug.appStartMs)} + handover ${v(p.devDebug.handoverMs)}), total ${v(p.devDebug.totalMs)}`;
    lines.push(
      `- ${appName}: ${s.head.builds} builds, ${s.head.boots} starts, ${s.head.reloads} reloads, ${s.head.saves} saves per fw; HEAD's release holds ${v(s.head.buildFiles, ' files')}. ` +
        `fw dev --debug medians: 6c997c3 ${d(s.baseline)}; HEAD ${d(s.head)}. p90 save-to-serve ${v(s.baseline.devSaveToServeP90Ms)} / ${v(s.head.devSaveToServeP90Ms)}.` +
        `${s.baseline.savesNeverServed + s.head.savesNeverServed ? ` Saves never served: ${s.baseline.savesNeverServed} / ${s.head.savesNeverServed}.` : ''}` +
        `${s.baseline.reloadsNeverServed + s.head.reloadsNeverServed ? ` Reloads never served: ${s.baseline.reloadsNeverServed} / ${s.head.reloadsNeverServed}.` : ''}`,
    );
  }
  lines.push('', `Load average at the start ${result.loadavgAtStart.join(' ')}, at the end ${result.loadavgAtEnd.join(' ')}.`);
  return lines.join('\n');
}

if (isMainModule(import.meta.url)) {
  await runBenchScript({
    name: NAME,
    prepare: () => prepareReleaseBuild(),
    run: (options, fws) => runReleaseBuild({ quick: options.quick, fws }),
    table: releaseBuildTable,
    limitS: { quick: 150, full: 900 },
  });
}
