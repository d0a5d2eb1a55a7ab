#!/usr/bin/env node
// How long from saving a file to the new code answering, and what does a client see meanwhile?
//
// Compares, in one run and one after the other (never at the same time: the machine has 2 cores):
//   fw dev     `fw dev <copy> --port 0 --debug` (esbuild incremental context + chokidar, a warm spare
//              worker takes over the same socket once it is ready)
//   baseline   the hand-rolled loop: `esbuild src/app.ts --bundle ... --outfile=.out/app.mjs --watch`
//              plus `node --watch bench-runner.mjs` (a tiny runner that imports the bundle, calls its
//              default export, a Fastify factory, and listens on a fixed free port)
//
// Each tool runs on a private copy of apps/example in test/.tmp/bench-dev-<tool>-<random>/ (inside the
// repo, so fastify and fw resolve from the workspace's node_modules). A poller keeps ONE kept-alive
// connection (undici Client, pipelining 1, no retries) busy with `GET /` (5 ms pause after each
// answer) and counts every request: ok, non-2xx by status, errors by code. Then N saves: each
// rewrites `export const VERSION = '...'` in src/app.ts (fs.writeFile of the whole file) to a new
// unique value; save-to-serve = arrival of the first answer carrying the new version minus the
// moment the write began. The next save comes `--gap` ms after that answer (10 s without it is a
// timeout). Per save: failed requests, the longest gap without a successful answer (outage), old
// versions answering after the new one did, and for fw dev the `--debug` breakdown of its reload.
//
// Usage: node bench/dev-loop.mjs [--quick] [--saves N] [--gap MS] [--baseline-first] [--out FILE] [--spares N]
//   --quick            8 saves instead of 20 (writes bench/results/dev-loop.quick.tmp unless --out)
//   --saves N          number of saves per tool (default 20)
//   --gap MS           pause after each new version is served, before the next save (default 300)
//   --baseline-first   measure the baseline before fw dev (the order is recorded in the JSON)
//   --out FILE         where the JSON goes (default bench/results/dev-loop.json)
//   --spares N         pass --spares N to fw dev (warm spare workers; fw dev's default is 2)
// Needs a build first: TURBO_TELEMETRY_DISABLED=1 npx turbo run build
// Prints a markdown table; writes raw per-save figures and a `summary` to the JSON file.

import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { copyExample, fwDevLines, runSaves, startFwDev } from './lib/dev.mjs';
import {
  cleanup,
  freePort,
  installCleanupHandlers,
  removeTempDir,
  repoRoot,
  sleep,
  startGroup,
  stopGroup,
  waitForLine,
  watchdog,
} from './lib/procs.mjs';
import { startRequestLoad } from './lib/load.mjs';
import { quantile, round } from './lib/stats.mjs';

const esbuildBin = path.join(repoRoot, 'node_modules', '.bin', 'esbuild');
const RUNNER_FILE = 'bench-runner.mjs';
const POLL_PAUSE_MS = 5;
const SAVE_TIMEOUT_MS = 10_000;
const SETTLE_MS = 1_000;
const START_TIMEOUT_MS = 30_000;
/** A tool that misses this many saves in a row is given up on (keeps the run bounded). */
const MAX_TIMEOUTS_IN_A_ROW = 3;

// ───────────────────────────────────────────────────────────── options ──

const options = parseArgs(process.argv.slice(2));

function parseArgs(argv) {
  const parsed = { quick: false, saves: undefined, gapMs: 300, baselineFirst: false, out: undefined, spares: undefined };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const next = argv[++i];
      if (next === undefined) usage(`${arg} needs a value`);
      return next;
    };
    if (arg === '--quick') parsed.quick = true;
    else if (arg === '--baseline-first') parsed.baselineFirst = true;
    else if (arg === '--saves') parsed.saves = positiveInt(arg, value());
    else if (arg === '--gap') parsed.gapMs = positiveInt(arg, value(), true);
    else if (arg === '--out') parsed.out = path.resolve(value());
    else if (arg === '--spares') parsed.spares = sparesCount(value());
    else usage(`unknown argument ${arg}`);
  }
  parsed.saves ??= parsed.quick ? 8 : 20;
  parsed.out ??= path.join(repoRoot, 'bench', 'results', parsed.quick ? 'dev-loop.quick.tmp' : 'dev-loop.json');
  return parsed;
}

function positiveInt(flag, text, zeroOk = false) {
  const n = Number(text);
  if (!Number.isInteger(n) || n < (zeroOk ? 0 : 1)) usage(`${flag} expects a whole number${zeroOk ? '' : ' above 0'}, got ${text}`);
  return n;
}

/** fw dev accepts 0 to 4 spares: refuse anything else before a copy is made or a process started. */
function sparesCount(text) {
  if (!/^[0-4]$/.test(text)) usage(`--spares expects a whole number from 0 to 4, got ${text}`);
  return Number(text);
}

function usage(message) {
  process.stderr.write(`dev-loop: ${message}\nusage: node bench/dev-loop.mjs [--quick] [--saves N] [--gap MS] [--baseline-first] [--out FILE] [--spares N]\n`);
  process.exit(2);
}

// ────────────────────────────────────────────────────────────── tools ──

/** esbuild --watch first (until the first bundle is out), then node --watch on the runner. */
async function startBaseline(app) {
  const t0 = performance.now();
  const esbuild = startGroup(
    'esbuild --watch',
    esbuildBin,
    ['src/app.ts', '--bundle', '--platform=node', '--format=esm', '--packages=external', '--outfile=.out/app.mjs', '--watch'],
    // esbuild --watch exits when its stdin closes: keep it open (and it also ends if this script dies).
    { cwd: app.dir, keepStdinOpen: true },
  );
  await waitForLine(esbuild, /build finished/, START_TIMEOUT_MS);
  if (!existsSync(path.join(app.dir, '.out', 'app.mjs'))) throw new Error(`esbuild said "build finished" but wrote no .out/app.mjs:\n${esbuild.tail()}`);
  const bundledMs = performance.now() - t0;

  await writeFile(
    path.join(app.dir, RUNNER_FILE),
    `// Written by bench/dev-loop.mjs: the hand-rolled dev loop's server.
import createApp from './.out/app.mjs';

const port = Number(process.env.BENCH_PORT);
const app = await createApp();
await app.listen({ host: '127.0.0.1', port });
console.log(\`bench-runner listening on \${port}\`);
`,
  );
  const port = await freePort();
  const node = startGroup('node --watch', process.execPath, ['--watch', RUNNER_FILE], {
    cwd: app.dir,
    env: { LOG_LEVEL: 'warn', BENCH_PORT: String(port) },
  });
  const listening = await waitForLine(node, /bench-runner listening on/, START_TIMEOUT_MS);
  return {
    origin: `http://127.0.0.1:${port}`,
    procs: [esbuild, node],
    esbuild,
    node,
    startupMs: listening.line.at - t0,
    firstBundleMs: bundledMs,
  };
}

/** When esbuild finished the bundle, node --watch restarted and the new process listened, after a save. */
function baselineLines(esbuildLines, nodeLines, save) {
  const inWindow = (line) => line.at >= save.savedAt && line.at < save.windowEnd;
  const firstAfter = (lines, pattern) => {
    const line = lines.find((l) => inWindow(l) && pattern.test(l.text));
    return line ? line.at - save.savedAt : null;
  };
  return {
    esbuildDoneMs: firstAfter(esbuildLines, /\[watch\] build finished/),
    esbuildBuilds: esbuildLines.filter((l) => inWindow(l) && /\[watch\] build finished/.test(l.text)).length,
    nodeRestartMs: firstAfter(nodeLines, /^Restarting /),
    nodeRestarts: nodeLines.filter((l) => inWindow(l) && /^Restarting /.test(l.text)).length,
    listeningMs: firstAfter(nodeLines, /bench-runner listening on/),
    problems: [...esbuildLines, ...nodeLines].filter((l) => inWindow(l) && /error|✘/i.test(l.text)).map((l) => l.text.trim()),
  };
}

// ────────────────────────────────────────────────────────── measuring ──

async function measure(tool, runId) {
  const app = await copyExample(`dev-${tool}`);
  const version = (n) => `${tool}-${runId}-${String(n).padStart(2, '0')}`;
  await app.setVersion(version(0));
  const started = tool === 'dev' ? await startFwDev(app, { spares: options.spares, timeoutMs: START_TIMEOUT_MS }) : await startBaseline(app);
  const poller = startRequestLoad(started.origin, { connections: 1, pauseMs: POLL_PAUSE_MS, readVersion: true });
  const result = { tool, dir: path.relative(repoRoot, app.dir), origin: started.origin, startup: {}, saves: [], aborted: null };
  try {
    const first = await poller.waitFor((e) => e.ok && e.version === version(0), SAVE_TIMEOUT_MS, 0);
    if (!first) throw new Error(`${tool}: no answer from the first version within ${SAVE_TIMEOUT_MS} ms`);
    result.startup = tool === 'dev'
      ? { readyLineMs: round(started.startupMs), fwReadyInMs: started.readyInMs }
      : { firstBundleMs: round(started.firstBundleMs), listeningMs: round(started.startupMs) };
    await sleep(SETTLE_MS); // fw dev warms its spare after the first start; both get the same pause

    const { saves, aborted } = await runSaves({
      app,
      poller,
      version,
      count: options.saves,
      gapMs: options.gapMs,
      timeoutMs: SAVE_TIMEOUT_MS,
      maxTimeoutsInARow: MAX_TIMEOUTS_IN_A_ROW,
    });
    result.saves = saves;
    result.aborted = aborted;
  } finally {
    const stoppedAt = performance.now();
    await poller.stop();
    result.connectionsOpened = poller.connects.length;
    // Kill the tool before the next one runs; the copy goes too.
    for (const proc of started.procs) await stopGroup(proc, { signal: null });
    await removeTempDir(app.dir);
    result.stoppedAt = stoppedAt;
    result.log = poller.log;
    result.lines = started.procs.map((p) => ({ name: p.name, lines: p.lines }));
    result.started = started;
  }
  return analyse(result);
}

/** Per-save figures from the request log and the tools' output. */
function analyse(result) {
  const { log, saves } = result;
  const firstSaveAt = saves[0]?.savedAt ?? result.stoppedAt;
  saves.forEach((save, i) => {
    save.windowEnd = saves[i + 1]?.savedAt ?? result.stoppedAt;
  });
  const perSave = saves.map((save) => {
    const inWindow = log.filter((e) => e.at >= save.savedAt && e.at < save.windowEnd);
    const failures = inWindow.filter((e) => !e.ok);
    const oks = inWindow.filter((e) => e.ok);
    // Outage: the longest stretch without a successful answer, from the last one before the save
    // to the end of the window (the next save, or the end of the run).
    const before = log.findLast((e) => e.ok && e.at < save.savedAt);
    const times = [before?.at ?? save.savedAt, ...oks.map((e) => e.at), save.windowEnd];
    let outage = 0;
    let outageFrom = times[0];
    for (let k = 1; k < times.length; k++) {
      if (times[k] - times[k - 1] > outage) {
        outage = times[k] - times[k - 1];
        outageFrom = times[k - 1];
      }
    }
    // Stale: an answer from any other version after the new one has answered.
    const firstNew = save.servedAt === null ? -1 : inWindow.findIndex((e) => e.ok && e.version === save.version);
    const staleAfterNew = firstNew < 0 ? 0 : inWindow.slice(firstNew).filter((e) => e.ok && e.version !== save.version).length;
    const row = {
      n: save.n,
      version: save.version,
      saveToServeMs: save.servedAt === null ? null : round(save.servedAt - save.savedAt),
      timedOut: save.servedAt === null,
      writeMs: round(save.writeMs),
      requests: inWindow.length,
      failed: failures.length,
      failures: countFailures(failures),
      outageMs: round(outage),
      // Where that stretch began, in ms after the save (negative: at the last answer before it).
      outageFromMs: round(outageFrom - save.savedAt),
      staleAfterNew,
      // The first few failed requests, in ms after the save: when sent, when they failed, and how.
      failedDetail: failures.slice(0, 10).map((e) => ({
        sentMs: round(e.sent - save.savedAt),
        atMs: round(e.at - save.savedAt),
        ...(e.error ? { error: e.error } : { status: e.status }),
      })),
      // Everything the tool printed in this save's window, in ms after the save.
      output: result.lines.flatMap(({ name, lines }) =>
        lines.filter((l) => l.at >= save.savedAt && l.at < save.windowEnd).map((l) => `${name} +${Math.round(l.at - save.savedAt)} ms| ${l.text}`),
      ),
    };
    if (result.tool === 'dev') {
      const fw = fwDevLines(result.lines[0].lines, save);
      row.fw = {
        ...fw,
        reloads: fw.reloads.map((r) => ({ ...r, lineAfterSaveMs: r.lineAfterSaveMs === undefined ? undefined : round(r.lineAfterSaveMs) })),
      };
      // Requests sent after fw dev printed "reloaded" that still got an old version.
      const reloadedAt = fw.reloads.find((r) => r.lineAfterSaveMs !== undefined)?.lineAfterSaveMs;
      row.staleAfterReloadLine = reloadedAt === undefined
        ? null
        : inWindow.filter((e) => e.ok && e.sent - save.savedAt > reloadedAt && e.version !== save.version).length;
      const total = fw.reloads.find((r) => r.breakdown)?.breakdown?.totalMs;
      row.outsideFwTotalMs = total === undefined || row.saveToServeMs === null ? null : round(row.saveToServeMs - total);
    } else {
      const [esbuild, node] = result.lines;
      const b = baselineLines(esbuild.lines, node.lines, save);
      row.baseline = { ...b, esbuildDoneMs: round(b.esbuildDoneMs), nodeRestartMs: round(b.nodeRestartMs), listeningMs: round(b.listeningMs) };
    }
    return row;
  });

  const all = log;
  const failedAll = all.filter((e) => !e.ok);
  const failedBeforeSaves = log.filter((e) => !e.ok && e.at < firstSaveAt).length;
  const times = perSave.filter((s) => s.saveToServeMs !== null).map((s) => s.saveToServeMs);
  const summary = {
    saves: perSave.length,
    timeouts: perSave.filter((s) => s.timedOut).length,
    saveToServeMedianMs: round(quantile(times, 0.5)),
    saveToServeP90Ms: round(quantile(times, 0.9)),
    saveToServeMinMs: round(Math.min(...times)),
    saveToServeMaxMs: round(Math.max(...times)),
    requests: all.length,
    ok: all.length - failedAll.length,
    failedRequests: failedAll.length,
    failedBeforeSaves,
    failures: countFailures(failedAll),
    failedPerSaveMean: round(mean(perSave.map((s) => s.failed))),
    failedPerSaveMax: Math.max(0, ...perSave.map((s) => s.failed)),
    savesWithFailures: perSave.filter((s) => s.failed > 0).length,
    maxOutageMs: round(Math.max(0, ...perSave.map((s) => s.outageMs))),
    medianOutageMs: round(quantile(perSave.map((s) => s.outageMs), 0.5)),
    staleAfterNew: perSave.reduce((sum, s) => sum + s.staleAfterNew, 0),
    connectionsOpened: result.connectionsOpened,
  };
  if (result.tool === 'dev') {
    const breakdowns = perSave.map((s) => s.fw.reloads.find((r) => r.breakdown)?.breakdown).filter(Boolean);
    const med = (key) => round(quantile(breakdowns.map((b) => b[key]).filter((x) => x !== null), 0.5));
    summary.staleAfterReloadLine = perSave.reduce((sum, s) => sum + (s.staleAfterReloadLine ?? 0), 0);
    summary.reloadsPerSave = countValues(perSave.map((s) => s.fw.reloads.filter((r) => r.reloadedMs !== undefined).length));
    summary.problems = perSave.flatMap((s) => s.fw.problems);
    // Saves fw dev refused (build failed or the new worker did not start): the old version kept serving.
    summary.savesRefused = perSave.filter((s) => s.fw.problems.some((p) => /build failed|failed to start/.test(p))).length;
    summary.debugMedians = {
      waitMs: med('waitMs'),
      buildMs: med('buildMs'),
      startWorkerMs: med('startWorkerMs'),
      importMs: med('importMs'),
      appStartMs: med('appStartMs'),
      handoverMs: med('handoverMs'),
      totalMs: med('totalMs'),
      outsideFwTotalMs: round(quantile(perSave.map((s) => s.outsideFwTotalMs).filter((x) => x !== null), 0.5)),
      reloadLineAfterSaveMs: round(quantile(perSave.map((s) => s.fw.reloads.find((r) => r.reloadedMs !== undefined)?.lineAfterSaveMs).filter((x) => x !== undefined), 0.5)),
    };
    summary.workerStarts = countValues(breakdowns.map((b) => b.start));
  } else {
    const med = (key) => round(quantile(perSave.map((s) => s.baseline[key]).filter((x) => x !== null), 0.5));
    summary.timelineMedians = { esbuildDoneMs: med('esbuildDoneMs'), nodeRestartMs: med('nodeRestartMs'), listeningMs: med('listeningMs') };
    summary.nodeRestartsPerSave = countValues(perSave.map((s) => s.baseline.nodeRestarts));
    summary.esbuildBuildsPerSave = countValues(perSave.map((s) => s.baseline.esbuildBuilds));
    summary.problems = perSave.flatMap((s) => s.baseline.problems);
  }
  return { tool: result.tool, dir: result.dir, origin: result.origin, aborted: result.aborted, startup: result.startup, summary, saves: perSave };
}

// ─────────────────────────────────────────────────────────── numbers ──

function mean(values) {
  return values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length;
}

function countFailures(entries) {
  const statuses = {};
  const errors = {};
  for (const e of entries) {
    if (e.error) errors[e.error] = (errors[e.error] ?? 0) + 1;
    else statuses[e.status] = (statuses[e.status] ?? 0) + 1;
  }
  return { statuses, errors };
}

function countValues(values) {
  const counts = {};
  for (const v of values) counts[v] = (counts[v] ?? 0) + 1;
  return counts;
}

function ms(x) {
  return x === null || x === undefined ? '–' : `${Math.round(x)} ms`;
}

function describeFailures({ statuses, errors }) {
  const parts = [...Object.entries(statuses).map(([s, c]) => `${c}× HTTP ${s}`), ...Object.entries(errors).map(([e, c]) => `${c}× ${e}`)];
  return parts.length ? parts.join(', ') : 'none';
}

// ──────────────────────────────────────────────────────────── report ──

function report(results, ratio) {
  const names = { dev: 'fw dev', baseline: 'esbuild --watch + node --watch' };
  const lines = [];
  lines.push(`| tool | saves | save-to-serve median | p90 | min / max | never served (10 s) | failed requests | failed per save (mean / max) | max outage | old version after new |`);
  lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of results) {
    const s = r.summary;
    lines.push(
      `| ${names[r.tool]} | ${s.saves} | ${ms(s.saveToServeMedianMs)} | ${ms(s.saveToServeP90Ms)} | ${ms(s.saveToServeMinMs)} / ${ms(s.saveToServeMaxMs)} | ${s.timeouts} | ${s.failedRequests} of ${s.requests} | ${s.failedPerSaveMean} / ${s.failedPerSaveMax} | ${ms(s.maxOutageMs)} | ${s.staleAfterNew} |`,
    );
  }
  lines.push('');
  lines.push(`fw dev / baseline, save-to-serve medians: **${ratio === null ? '–' : `${ratio.toFixed(2)}×`}**`);
  for (const r of results) {
    const refused = r.summary.savesRefused ? `; saves refused by fw dev (old version kept serving): ${r.summary.savesRefused}` : '';
    lines.push(`- ${names[r.tool]} failures: ${describeFailures(r.summary.failures)}; connections opened: ${r.summary.connectionsOpened}${refused}${r.aborted ? `; ABORTED: ${r.aborted}` : ''}`);
  }
  const dev = results.find((r) => r.tool === 'dev');
  if (dev) {
    const d = dev.summary.debugMedians;
    lines.push('');
    lines.push('fw dev --debug, medians over the saves (each column on its own, so they need not add up; fw\'s clock starts at chokidar\'s event):');
    lines.push('');
    lines.push('| wait | build | start worker | = import | + app start | + handover | fw total | save-to-serve − fw total | "reloaded" line after save | worker from |');
    lines.push('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
    lines.push(
      `| ${ms(d.waitMs)} | ${ms(d.buildMs)} | ${ms(d.startWorkerMs)} | ${ms(d.importMs)} | ${ms(d.appStartMs)} | ${ms(d.handoverMs)} | ${ms(d.totalMs)} | ${ms(d.outsideFwTotalMs)} | ${ms(d.reloadLineAfterSaveMs)} | ${Object.entries(dev.summary.workerStarts).map(([k, v]) => `${v}× ${k}`).join(', ')} |`,
    );
  }
  const base = results.find((r) => r.tool === 'baseline');
  if (base) {
    const t = base.summary.timelineMedians;
    lines.push('');
    lines.push(`baseline timeline after a save, medians: esbuild done ${ms(t.esbuildDoneMs)}, node --watch "Restarting" ${ms(t.nodeRestartMs)}, new process listening ${ms(t.listeningMs)}, first new answer ${ms(base.summary.saveToServeMedianMs)}`);
  }
  return lines.join('\n');
}

// ────────────────────────────────────────────────────────────── main ──

async function main() {
  if (!existsSync(path.join(repoRoot, 'packages', 'dev', 'dist'))) {
    throw new Error('packages are not built: run `TURBO_TELEMETRY_DISABLED=1 npx turbo run build` first');
  }
  const runId = randomBytes(3).toString('hex');
  const order = options.baselineFirst ? ['baseline', 'dev'] : ['dev', 'baseline'];
  const startedAt = new Date();
  const t0 = performance.now();
  process.stderr.write(`dev-loop: ${options.saves} saves per tool, gap ${options.gapMs} ms, order ${order.join(' then ')}\n`);
  const results = [];
  for (const tool of order) {
    const t = performance.now();
    results.push(await measure(tool, runId));
    process.stderr.write(`dev-loop: ${tool} done in ${((performance.now() - t) / 1000).toFixed(1)} s\n`);
  }
  const byTool = Object.fromEntries(results.map((r) => [r.tool, r]));
  const dev = byTool.dev.summary;
  const base = byTool.baseline.summary;
  const ratio = dev.saveToServeMedianMs !== null && base.saveToServeMedianMs ? dev.saveToServeMedianMs / base.saveToServeMedianMs : null;

  const table = report(results, ratio);
  process.stdout.write(`\n${table}\n\n`);

  const output = {
    bench: 'dev-loop',
    date: startedAt.toISOString(),
    durationS: round((performance.now() - t0) / 1000),
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model,
      node: process.version,
      platform: `${os.platform()} ${os.release()}`,
      loadavgAtEnd: os.loadavg().map((x) => round(x, 2)),
    },
    options: { saves: options.saves, gapMs: options.gapMs, spares: options.spares ?? 'default', quick: options.quick, order, pollPauseMs: POLL_PAUSE_MS, saveTimeoutMs: SAVE_TIMEOUT_MS, settleMs: SETTLE_MS },
    summary: {
      devSaveToServeMedianMs: dev.saveToServeMedianMs,
      devSaveToServeP90Ms: dev.saveToServeP90Ms,
      devSaveToServeMinMs: dev.saveToServeMinMs,
      devSaveToServeMaxMs: dev.saveToServeMaxMs,
      baselineSaveToServeMedianMs: base.saveToServeMedianMs,
      baselineSaveToServeP90Ms: base.saveToServeP90Ms,
      baselineSaveToServeMinMs: base.saveToServeMinMs,
      baselineSaveToServeMaxMs: base.saveToServeMaxMs,
      ratioDevToBaselineMedian: round(ratio, 3),
      devFailedRequests: dev.failedRequests,
      baselineFailedRequests: base.failedRequests,
      devMaxOutageMs: dev.maxOutageMs,
      baselineMaxOutageMs: base.maxOutageMs,
      devTimeouts: dev.timeouts,
      devSavesRefused: dev.savesRefused,
      baselineTimeouts: base.timeouts,
      devStaleAfterNew: dev.staleAfterNew,
      devStaleAfterReloadLine: dev.staleAfterReloadLine,
      baselineStaleAfterNew: base.staleAfterNew,
      devDebugMedians: dev.debugMedians,
      baselineTimelineMedians: base.timelineMedians,
    },
    tools: byTool,
  };
  await mkdir(path.dirname(options.out), { recursive: true });
  await writeFile(options.out, `${JSON.stringify(output, null, 2)}\n`);
  process.stderr.write(`dev-loop: wrote ${path.relative(process.cwd(), options.out)} (${output.durationS} s)\n`);
}

// The whole run is bounded too: whatever hangs, the processes are killed and the copies removed.
installCleanupHandlers('dev-loop');
const disarm = watchdog('dev-loop', (options.quick ? 120 : 300) * 1000);
let exitCode = 0;
try {
  await main();
} catch (error) {
  process.stderr.write(`dev-loop: ${error?.stack ?? error}\n`);
  exitCode = 1;
} finally {
  const left = await cleanup();
  if (left.length) {
    process.stderr.write(`dev-loop: process groups left: ${left.join(', ')}\n`);
    exitCode = 1;
  }
  disarm();
}
process.exit(exitCode);
