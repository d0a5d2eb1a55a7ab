#!/usr/bin/env node
// The numbers that prove fw, side by side with baselines measured in the same run.
//
//   throughput  bench/throughput.mjs  plain Fastify / hand-written node:cluster (2 workers) /
//                                     `fw start --workers 2`: req/s, p50/p99, spread over workers
//   reload      bench/reload.mjs      reloads under keep-alive load: failed requests, p99 during
//                                     reloads vs steady, HUP → new generation serving vs a plain boot;
//                                     fw twice: the factory app and an entry that calls listen itself
//   memory      bench/memory.mjs      master and worker RSS vs plain Fastify, start → first response
//   dev-loop    bench/dev-loop.mjs    `fw dev` save-to-serve vs esbuild --watch + node --watch
//                                     (run as a child process; its summary is folded in)
//   release-build bench/release-build.mjs  HEAD's fw (releases that keep the app's layout) vs
//                                     6c997c3's (one esbuild bundle): fw build, worker boot, HUP →
//                                     serving, fw dev save-to-serve, on apps/example and a generated
//                                     500-module app (the baseline fw is a git worktree in the temp
//                                     folder, installed and built before the clock starts)
//
// One phase at a time (2 cores: phases in parallel would measure each other). Within each phase the
// contenders are interleaved and figures are medians over repeats; every figure is set against a
// baseline from the same run.
//
// Usage: npm run bench [-- --quick] [-- --only throughput,reload,memory,dev-loop,release-build]
//        node bench/run.mjs [--quick] [--only LIST]
//   --quick  every phase shortened; the first four take about a minute (goal: under 90 s), and
//            release-build about as long again.
//            Results go to bench/results/<name>.quick.tmp (git-ignored) so a quick check never
//            replaces the reference results of a full run.
//   default  a fuller run, a few minutes: bench/results/<name>.json and bench/results/summary.json.
// stdout: markdown tables (the summary first); stderr: progress. Exit 1 if a phase failed.
// Needs fw built (`npm run bench` builds it first). 127.0.0.1 only; every process started is
// killed by process group at the end, temp copies (test/.tmp/bench-*) are removed.

import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { memoryTable, runMemory } from './memory.mjs';
import { reloadTable, runReload } from './reload.mjs';
import { prepareReleaseBuild, releaseBuildTable, runReleaseBuild } from './release-build.mjs';
import { runThroughput, throughputTable } from './throughput.mjs';
import { prepareFwApp } from './lib/fw-process.mjs';
import { benchDir, cleanup, installCleanupHandlers, isInterrupted, log, removeTempDir, repoRoot, startGroup, stopGroup, waitForExit } from './lib/procs.mjs';
import { machine, resultFile, writeResult } from './lib/results.mjs';
import { ratio, round } from './lib/stats.mjs';

const NAME = 'bench';
const say = (text) => log(NAME, text);
const PHASES = ['throughput', 'reload', 'memory', 'dev-loop', 'release-build'];
/** Quick runs: saves per tool in the dev loop (dev-loop.mjs's own --quick is 8). */
const QUICK_DEV_SAVES = 4;

const GOALS = {
  fwToClusterThroughput: { text: 'fw/cluster throughput ≥ 0.97', check: (s) => s.fwToClusterThroughput >= 0.97 },
  reloadFailedRequests: { text: '0 failed requests across reloads', check: (s) => s.reloadFailedRequests === 0 && (s.reloadFailedRequestsListen ?? 0) === 0 },
  hupToServing: { text: "HUP → serving ≤ the worker's own boot + 100 ms", check: (s) => s.hupToServingMs <= s.plainBootMs + 100 },
  devSaveToServe: { text: 'dev save-to-serve median ≤ 50 ms', check: (s) => s.devSaveToServeMedianMs <= 50 },
  masterRss: { text: 'master RSS ≤ 60 MB', check: (s) => s.masterRssMb <= 60 },
};

function parseArgs(argv) {
  const options = { quick: false, only: PHASES };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--quick') options.quick = true;
    else if (arg === '--only') {
      const list = (argv[++i] ?? '').split(',').map((x) => x.trim()).filter(Boolean);
      const unknown = list.filter((x) => !PHASES.includes(x));
      if (!list.length || unknown.length) usage(`--only expects a comma list of ${PHASES.join(', ')}`);
      options.only = PHASES.filter((x) => list.includes(x));
    } else usage(`unknown argument ${arg}`);
  }
  return options;
}

function usage(message) {
  process.stderr.write(`bench: ${message}\nusage: node bench/run.mjs [--quick] [--only ${PHASES.join(',')}]\n`);
  process.exit(2);
}

/** bench/dev-loop.mjs as a child process (bounded); resolves with its JSON. */
async function runDevLoop(quick) {
  const out = resultFile('dev-loop', quick);
  const args = [path.join(benchDir, 'dev-loop.mjs'), ...(quick ? ['--quick', '--saves', String(QUICK_DEV_SAVES)] : []), '--out', out];
  const proc = startGroup('dev-loop', process.execPath, args, { cwd: repoRoot, terminateFirst: true });
  let forwarded = 0;
  const forward = setInterval(() => {
    for (; forwarded < proc.lines.length; forwarded++) {
      const line = proc.lines[forwarded];
      if (line.stream === 'stderr') process.stderr.write(`[dev-loop] ${line.text}\n`);
    }
  }, 200);
  const limitMs = (quick ? 75 : 330) * 1000;
  try {
    const exited = await waitForExit(proc, limitMs);
    if (!exited) throw new Error(`dev-loop did not finish within ${limitMs / 1000} s`);
    if (proc.exitInfo !== 'code 0') throw new Error(`dev-loop exited (${proc.exitInfo}):\n${proc.tail(15)}`);
    const result = JSON.parse(await readFile(out, 'utf8'));
    result.table = proc.lines.filter((l) => l.stream === 'stdout').map((l) => l.text).join('\n').trim();
    return result;
  } finally {
    clearInterval(forward);
    // SIGTERM first: dev-loop then kills what it started and removes its copies.
    await stopGroup(proc, { signal: 'SIGTERM', graceMs: 10_000 }).catch((error) => say(String(error)));
  }
}

function summarize(results) {
  const t = results.throughput?.summary;
  const r = results.reload?.summary;
  const m = results.memory?.summary;
  const d = results['dev-loop']?.summary;
  const rb = results['release-build']?.summary;
  const summary = {
    // The four the issue asks for by name.
    fwToClusterThroughput: t?.fwToClusterThroughput ?? null,
    reloadFailedRequests: r?.reloadFailedRequests ?? null,
    devSaveToServeMedianMs: d?.devSaveToServeMedianMs ?? null,
    masterRssMb: m?.masterRssMb ?? null,
    // Throughput.
    fwToSingleThroughput: t?.fwToSingleThroughput ?? null,
    fwToClusterCpuPerRequest: t?.fwToClusterCpuPerRequest ?? null,
    workerUsPerRequest: t ? { single: t.single.workerUsPerRequestMedian, cluster: t.cluster.workerUsPerRequestMedian, fw: t.fw.workerUsPerRequestMedian } : null,
    clusterToSingleThroughput: t?.clusterToSingleThroughput ?? null,
    reqPerSec: t ? { single: t.single.reqPerSecMedian, cluster: t.cluster.reqPerSecMedian, fw: t.fw.reqPerSecMedian } : null,
    p50Ms: t ? { single: t.single.p50MsMedian, cluster: t.cluster.p50MsMedian, fw: t.fw.p50MsMedian } : null,
    p99Ms: t ? { single: t.single.p99MsMedian, cluster: t.cluster.p99MsMedian, fw: t.fw.p99MsMedian } : null,
    busiestWorkerShare: t ? { cluster: t.cluster.busiestWorkerRequestShareMedian, fw: t.fw.busiestWorkerRequestShareMedian } : null,
    busiestWorkerConnectionShare: t ? { cluster: t.cluster.busiestWorkerConnectionShareMedian, fw: t.fw.busiestWorkerConnectionShareMedian } : null,
    // autocannon runs whose kept-alive connections span a reload (full runs only).
    throughputReloadRunsFailed: t?.afterReload.fw ? { fw: t.afterReload.fw.failed, cluster: t.afterReload.cluster?.failed ?? null } : null,
    throughputAfterReloadBusiestShare: t?.afterReload.fw ? { fw: t.afterReload.fw.busiestNewWorkerShareMedian, cluster: t.afterReload.cluster?.busiestNewWorkerShareMedian ?? null } : null,
    // Reloads.
    reloadRequests: r?.fw.requests ?? null,
    reloadCount: r?.fw.reloads ?? null,
    // The same app as an entry that calls listen itself (bench/fixtures/hello-listen).
    reloadFailedRequestsListen: r?.listenEntry?.failedRequests ?? null,
    reloadRequestsListen: r?.listenEntry?.requests ?? null,
    reloadCountListen: r?.listenEntry?.reloads ?? null,
    hupToServingMsListen: r?.listenEntry?.hupToServingMs ?? null,
    plainBootMsListen: r?.listenEntry?.plainBootMs ?? null,
    hupToServingToPlainBoot: r ? { factory: r.fw.hupToServingToPlainBoot ?? null, listen: r.listenEntry?.hupToServingToPlainBoot ?? null } : null,
    reloadFailedRequestsCluster: r?.cluster.failedRequests ?? null,
    reloadRequestsCluster: r?.cluster.requests ?? null,
    reloadCountCluster: r?.cluster.reloads ?? null,
    reloadFailuresCluster: r?.cluster.failures ?? null,
    reloadP99DuringToSteady: r ? { fw: r.fw.p99DuringToSteady, cluster: r.cluster.p99DuringToSteady } : null,
    hupToServingMs: r?.hupToServingMs ?? null,
    plainBootMs: r?.plainBootMs ?? null,
    hupToServingMinusPlainBootMs: r?.fw.hupToServingMinusPlainBootMsMedian ?? null,
    fwWorkerSpawnToReadyMs: r?.fw.workerSpawnToReadyMsMedian ?? null,
    hupToGenerationReadyMs: r?.fw.hupToReadyLineMsMedian ?? null,
    clusterHupToServingMs: r?.cluster.hupToServingMsMedian ?? null,
    afterReloadBusiestShare: r ? { fw: r.fw.afterReloadBusiestShareMedian, cluster: r.cluster.afterReloadBusiestShareMedian } : null,
    afterReloadWorstBusiestShare: r ? { fw: r.fw.afterReloadWorstBusiestShare, cluster: r.cluster.afterReloadWorstBusiestShare } : null,
    afterReloadBusiestConnectionShare: r ? { fw: r.fw.afterReloadBusiestConnectionShareMedian, cluster: r.cluster.afterReloadBusiestConnectionShareMedian } : null,
    // Dev loop.
    devSaveToServeP90Ms: d?.devSaveToServeP90Ms ?? null,
    baselineSaveToServeMedianMs: d?.baselineSaveToServeMedianMs ?? null,
    baselineSaveToServeP90Ms: d?.baselineSaveToServeP90Ms ?? null,
    devToBaselineSaveToServe: d?.ratioDevToBaselineMedian ?? null,
    devFailedRequests: d?.devFailedRequests ?? null,
    baselineFailedRequests: d?.baselineFailedRequests ?? null,
    // Memory and start.
    masterRssMbClusterPrimary: m?.cluster.masterRssMbMedian ?? null,
    workerRssMb: m ? { fw: m.fw.workerRssMbMedian, cluster: m.cluster.workerRssMbMedian, single: m.single.workerRssMbMedian } : null,
    fwWorkerToSingleRss: m?.fwWorkerToSingleRss ?? null,
    startToFirstResponseMs: m ? { single: m.single.startToFirstResponseMsMedian, cluster: m.cluster.startToFirstResponseMsMedian, fw: m.fw.startToFirstResponseMsMedian } : null,
    // Releases that keep the layout (HEAD) against the single bundle (6c997c3): HEAD / 6c997c3 per app.
    releaseBuildRatios: rb ? { example: rb.example.ratios, generated: rb.generated.ratios } : null,
  };
  summary.goals = Object.fromEntries(
    Object.entries(GOALS).map(([key, goal]) => {
      let met = null;
      try {
        met = goal.check(summary);
      } catch {
        met = null;
      }
      const missing = { fwToClusterThroughput: t, reloadFailedRequests: r, hupToServing: r, devSaveToServe: d, masterRss: m }[key] === undefined;
      return [key, { goal: goal.text, met: missing ? null : met }];
    }),
  );
  return summary;
}

/** "1.36 · 0.95 · 0.66 · 1.28" from one app's release-build ratios. */
function rbRatios(r) {
  return r ? [r.buildWall, r.bootReadyIn, r.hupToServing, r.devSaveToServe].map((x) => x ?? '–').join(' · ') : '–';
}

function summaryTable(s, quick) {
  const v = (x, unit = '') => (x === null || x === undefined ? '–' : `${x}${unit}`);
  const met = (key) => (s.goals[key].met === null ? '–' : s.goals[key].met ? 'met' : '**missed**');
  const pct = (x) => (x === null || x === undefined ? '–' : `${Math.round(x * 100)}%`);
  const lines = [
    `## fw bench summary${quick ? ' (--quick)' : ''}`,
    '',
    '| measure | fw | baseline(s), same run | ratio | goal | |',
    '| --- | ---: | ---: | ---: | --- | --- |',
    `| hello-JSON throughput, req/s | ${v(s.reqPerSec?.fw)} | cluster ${v(s.reqPerSec?.cluster)} · single ${v(s.reqPerSec?.single)} | fw/cluster **${v(s.fwToClusterThroughput)}** · fw/single ${v(s.fwToSingleThroughput)} | fw/cluster ≥ 0.97 | ${met('fwToClusterThroughput')} |`,
    `| worker CPU per request (independent of how much CPU a contender got) | ${v(s.workerUsPerRequest?.fw, ' µs')} | cluster ${v(s.workerUsPerRequest?.cluster, ' µs')} · single ${v(s.workerUsPerRequest?.single, ' µs')} | fw/cluster ${v(s.fwToClusterCpuPerRequest)} | | |`,
    `| latency p50 / p99, ms | ${v(s.p50Ms?.fw)} / ${v(s.p99Ms?.fw)} | cluster ${v(s.p50Ms?.cluster)} / ${v(s.p99Ms?.cluster)} · single ${v(s.p50Ms?.single)} / ${v(s.p99Ms?.single)} | | | |`,
    `| busiest worker's share of requests / of connections (50% = even) | ${pct(s.busiestWorkerShare?.fw)} / ${pct(s.busiestWorkerConnectionShare?.fw)} | cluster ${pct(s.busiestWorkerShare?.cluster)} / ${pct(s.busiestWorkerConnectionShare?.cluster)} | | | |`,
    `| … busiest new worker right after a reload under kept-alive load: requests / connections (worst reload) | ${pct(s.afterReloadBusiestShare?.fw)} / ${pct(s.afterReloadBusiestConnectionShare?.fw)} (${pct(s.afterReloadWorstBusiestShare?.fw)})${s.throughputAfterReloadBusiestShare ? `; autocannon ${pct(s.throughputAfterReloadBusiestShare.fw)}` : ''} | cluster ${pct(s.afterReloadBusiestShare?.cluster)} / ${pct(s.afterReloadBusiestConnectionShare?.cluster)} (${pct(s.afterReloadWorstBusiestShare?.cluster)})${s.throughputAfterReloadBusiestShare ? `; autocannon ${pct(s.throughputAfterReloadBusiestShare.cluster)}` : ''} | | | |`,
    `| failed requests across reloads under load | **${v(s.reloadFailedRequests)}** of ${v(s.reloadRequests)} over ${v(s.reloadCount)} reloads${s.throughputReloadRunsFailed ? ` (autocannon runs spanning reloads: ${v(s.throughputReloadRunsFailed.fw)})` : ''}; listen entry **${v(s.reloadFailedRequestsListen)}** of ${v(s.reloadRequestsListen)} over ${v(s.reloadCountListen)} reloads | cluster ${v(s.reloadFailedRequestsCluster)} of ${v(s.reloadRequestsCluster)} over ${v(s.reloadCountCluster)} reloads${s.throughputReloadRunsFailed ? ` (autocannon: ${v(s.throughputReloadRunsFailed.cluster)})` : ''} | | 0 | ${met('reloadFailedRequests')} |`,
    `| p99 during reloads ÷ steady p99 | ${v(s.reloadP99DuringToSteady?.fw, '×')} | cluster ${v(s.reloadP99DuringToSteady?.cluster, '×')} | | | |`,
    `| HUP → new generation serving | ${v(s.hupToServingMs, ' ms')} (ready ${v(s.hupToGenerationReadyMs, ' ms')}; its workers' spawn → ready ${v(s.fwWorkerSpawnToReadyMs, ' ms')}) | 2 plain Fastify processes boot ${v(s.plainBootMs, ' ms')} · cluster HUP → serving ${v(s.clusterHupToServingMs, ' ms')} | fw − boot ${v(s.hupToServingMinusPlainBootMs, ' ms')} · fw ÷ boot ${v(s.hupToServingToPlainBoot?.factory, '×')} | ≤ boot + 100 ms | ${met('hupToServing')} |`,
    `| … the same app as an entry that calls listen itself | ${v(s.hupToServingMsListen, ' ms')} | 2 plain Fastify processes boot ${v(s.plainBootMsListen, ' ms')} (after its reloads) | ÷ boot ${v(s.hupToServingToPlainBoot?.listen, '×')} | | |`,
    `| dev save-to-serve median / p90 | **${v(s.devSaveToServeMedianMs, ' ms')}** / ${v(s.devSaveToServeP90Ms, ' ms')} | esbuild --watch + node --watch ${v(s.baselineSaveToServeMedianMs, ' ms')} / ${v(s.baselineSaveToServeP90Ms, ' ms')} | ${v(s.devToBaselineSaveToServe)} | median ≤ 50 ms | ${met('devSaveToServe')} |`,
    `| failed requests while saving (dev loop) | ${v(s.devFailedRequests)} | ${v(s.baselineFailedRequests)} | | | |`,
    `| master RSS | **${v(s.masterRssMb, ' MB')}** | node:cluster primary ${v(s.masterRssMbClusterPrimary, ' MB')} | ${v(ratio(s.masterRssMb, s.masterRssMbClusterPrimary, 2))} | ≤ 60 MB | ${met('masterRss')} |`,
    `| worker RSS | ${v(s.workerRssMb?.fw, ' MB')} | plain Fastify process ${v(s.workerRssMb?.single, ' MB')} · cluster worker ${v(s.workerRssMb?.cluster, ' MB')} | ${v(s.fwWorkerToSingleRss)} | | |`,
    `| start → first response | ${v(s.startToFirstResponseMs?.fw, ' ms')} | single ${v(s.startToFirstResponseMs?.single, ' ms')} · cluster ${v(s.startToFirstResponseMs?.cluster, ' ms')} | fw/single ${v(ratio(s.startToFirstResponseMs?.fw, s.startToFirstResponseMs?.single, 2))} · fw/cluster ${v(ratio(s.startToFirstResponseMs?.fw, s.startToFirstResponseMs?.cluster, 2))} | | |`,
    `| HEAD's releases ÷ 6c997c3's single bundle: fw build · worker boot ("ready in") · HUP → serving · dev save-to-serve | example ${rbRatios(s.releaseBuildRatios?.example)}; 500-module app ${rbRatios(s.releaseBuildRatios?.generated)} | same fw, two commits | | | |`,
  ];
  return lines.join('\n');
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  installCleanupHandlers(NAME);
  if (!existsSync(path.join(repoRoot, 'packages', 'cli', 'dist', 'main.js'))) {
    process.stderr.write('bench: fw is not built: run `npm run bench` (it builds first) or `npx turbo run build`\n');
    process.exit(1);
  }
  // release-build's two fws (git worktrees, installed and built the first time): before the clock.
  let releaseFws = null;
  if (options.only.includes('release-build')) {
    try {
      releaseFws = await prepareReleaseBuild();
    } catch (error) {
      say(`release-build: could not prepare the two fws: ${error?.stack ?? error}`);
      await cleanup();
      process.exit(1);
    }
  }
  const startedAt = new Date();
  const loadavgAtStart = machine().loadavg;
  const t0 = performance.now();
  // A hard bound on the whole run, whatever hangs: kill everything, remove the copies, exit 1.
  const limitS = (options.quick ? 180 : 1_200) + (options.only.includes('release-build') ? (options.quick ? 150 : 900) : 0);
  const hardStop = setTimeout(() => {
    say(`still running after ${limitS} s; cleaning up`);
    cleanup().finally(() => process.exit(1));
  }, limitS * 1000);
  hardStop.unref();

  say(`${options.quick ? 'quick' : 'full'} run: ${options.only.join(', ')}; ${machine().cpus} CPUs, Node ${process.version}, load average ${machine().loadavg.join(' ')}`);
  const results = {};
  const errors = {};
  const timings = {};
  // One private copy of the hello app, built once, for every phase that runs fw start.
  let app = null;
  const fwApp = async () => {
    app ??= await prepareFwApp('hello');
    return app;
  };
  const runners = {
    throughput: async () => runThroughput({ quick: options.quick, app: await fwApp() }),
    reload: async () => runReload({ quick: options.quick, app: await fwApp() }),
    memory: async () => runMemory({ quick: options.quick, app: await fwApp() }),
    'dev-loop': () => runDevLoop(options.quick),
    'release-build': () => runReleaseBuild({ quick: options.quick, fws: releaseFws }),
  };
  for (const phase of options.only) {
    if (isInterrupted()) break;
    const start = performance.now();
    say(`── ${phase}`);
    try {
      const result = await runners[phase]();
      if (isInterrupted()) break;
      results[phase] = result;
      if (phase !== 'dev-loop') say(`wrote ${path.relative(repoRoot, await writeResult(phase, options.quick, result))}`);
    } catch (error) {
      errors[phase] = String(error?.stack ?? error);
      say(`${phase} failed: ${error?.stack ?? error}`);
    } finally {
      const left = await cleanup({ keep: app ? [app.root] : [] });
      if (left.length) errors[`${phase}-cleanup`] = `process groups left: ${left.join(', ')}`;
    }
    timings[phase] = round((performance.now() - start) / 1000);
    say(`${phase} took ${timings[phase]} s`);
  }

  if (isInterrupted()) {
    // The signal handler is tearing everything down and exits; write nothing half-done.
    await new Promise(() => undefined);
  }
  if (app) await removeTempDir(app.root);
  const summary = summarize(results);
  const totalS = round((performance.now() - t0) / 1000);
  const output = {
    bench: 'summary',
    date: startedAt.toISOString(),
    durationS: totalS,
    quick: options.quick,
    phases: options.only,
    phaseSeconds: timings,
    machine: { ...machine(), loadavgAtStart },
    files: Object.fromEntries(options.only.map((phase) => [phase, path.relative(repoRoot, resultFile(phase, options.quick))])),
    errors,
    summary,
  };
  const file = await writeResult('summary', options.quick, output);

  const sections = [summaryTable(summary, options.quick)];
  if (results.throughput) sections.push(`### Throughput\n\n${throughputTable(results.throughput)}`);
  if (results.reload) sections.push(`### Reloads under load\n\n${reloadTable(results.reload)}`);
  if (results['dev-loop']) sections.push(`### Dev loop\n\n${results['dev-loop'].table}`);
  if (results.memory) sections.push(`### Memory and start\n\n${memoryTable(results.memory)}`);
  if (results['release-build']) sections.push(`### Releases that keep the layout vs the single bundle\n\n${releaseBuildTable(results['release-build'])}`);
  const m = output.machine;
  sections.push(
    `${m.cpus} × ${m.cpuModel}, ${m.memoryGb} GB, ${m.platform}, Node ${m.node}; load average at the start ${loadavgAtStart.join(' ')}, at the end ${m.loadavg.join(' ')}. ` +
      `${startedAt.toISOString()}, ${totalS} s (${Object.entries(timings).map(([k, s]) => `${k} ${s} s`).join(', ')}).`,
  );
  process.stdout.write(`\n${sections.join('\n\n')}\n`);
  // The 90 s aim for --quick is for the first four phases; release-build comes on top.
  const aimedS = totalS - (timings['release-build'] ?? 0);
  say(`wrote ${path.relative(repoRoot, file)}; ${totalS} s${options.quick && aimedS > 90 ? ' (over the 90 s aim for --quick)' : ''}`);
  clearTimeout(hardStop);
  const failed = Object.keys(errors);
  if (failed.length) say(`failed: ${failed.join(', ')}`);
  process.exit(failed.length ? 1 : 0);
}

await main();
