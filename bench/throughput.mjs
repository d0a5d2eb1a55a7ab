#!/usr/bin/env node
// Throughput of the same hello-JSON route under
//   single    plain Fastify in one process             (bench/fixtures/single.mjs)
//   cluster   a hand-written node:cluster, 2 workers   (bench/fixtures/cluster.mjs, round-robin)
//   fw        `fw start --workers 2`                   (bench/fixtures/hello-app)
// with autocannon (keep-alive, pipelining 1): requests/s, p50/p99 latency, failed requests by kind,
// and how requests and connections spread over the workers (from the `x-worker` header).
//
// Each round starts all three afresh (instances of one server differ for their whole life on a
// shared VM), warms them up, and measures them one after the other, the order rotated each round,
// so noise from other tenants falls on every contender; figures are medians over rounds and the
// ratios fw/cluster and fw/single are medians of the per-round ratios (same round = same
// conditions). Worker CPU per request is given too: it does not depend on how much CPU a
// contender was given. Then, for fw and cluster in turn: a run whose kept-alive connections span a reload
// (SIGHUP), to see where the connections land afterwards (PM2 was seen at 90/10 after its reloads).
//
// Usage: node bench/throughput.mjs [--quick]     (writes bench/results/throughput.json, or
//        throughput.quick.tmp with --quick; prints a markdown table). Needs a build of fw.

import { performance } from 'node:perf_hooks';
import { startCluster, startSingle } from './lib/baselines.mjs';
import { prepareFwApp, startFw, whenGone } from './lib/fw-process.mjs';
import { cannon } from './lib/load.mjs';
import { cpuTimeMs, log, sleep } from './lib/procs.mjs';
import { runClock } from './lib/results.mjs';
import { isMainModule, runBenchScript } from './lib/script.mjs';
import { busiestShare, median, ratio, rotate, round, splitText, sum } from './lib/stats.mjs';

const NAME = 'throughput';
const say = (text) => log(NAME, text);

export function throughputConfig(quick) {
  return quick
    ? { connections: 32, workers: 2, warmupS: 0.3, rounds: 3, durationS: 1, reloadRuns: 0, reloadSteadyS: 1, afterReloadS: 1.5, oldGoneTimeoutS: 4 }
    : { connections: 32, workers: 2, warmupS: 1, rounds: 8, durationS: 4, reloadRuns: 2, reloadSteadyS: 2, afterReloadS: 4, oldGoneTimeoutS: 10 };
}

/** `app`: an fw app from prepareFwApp() to reuse (the runner builds one for every phase). */
export async function runThroughput({ quick = false, app: given } = {}) {
  const config = throughputConfig(quick);
  const clock = runClock(NAME, { quick, config });
  const app = given ?? (await prepareFwApp('throughput'));
  const names = ['single', 'cluster', 'fw'];
  const startAll = async (which) => {
    const started = await Promise.allSettled(
      which.map((name) => (name === 'single' ? startSingle() : name === 'cluster' ? startCluster({ workers: config.workers }) : startFw(app, { workers: config.workers }))),
    );
    const contenders = Object.fromEntries(which.map((name, i) => [name, started[i].value]));
    const failed = started.find((s) => s.status === 'rejected');
    if (failed) {
      await stopAll(contenders);
      throw failed.reason;
    }
    return contenders;
  };
  const stopAll = (contenders) => Promise.allSettled(Object.values(contenders).filter(Boolean).map((c) => c.stop()));

  // Every round runs on freshly started processes: on this kind of shared VM two instances of the
  // same server can differ by 10-30% in CPU per request for their whole life, so one set of
  // processes for the whole bench would bias every round the same way.
  const rounds = [];
  for (let r = 0; r < config.rounds; r++) {
    const contenders = await startAll(names);
    try {
      for (const name of names) await cannon(contenders[name].origin, { connections: config.connections, durationS: config.warmupS });
      const round_ = { round: r, order: rotate(names, r), pids: {}, runs: {} };
      for (const name of round_.order) {
        round_.pids[name] = { master: contenders[name].masterPid, workers: contenders[name].workerPids() };
        const run = await withCpu(contenders[name], () => cannon(contenders[name].origin, { connections: config.connections, durationS: config.durationS }));
        round_.runs[name] = run;
        say(`round ${r + 1}/${config.rounds} ${name}: ${run.reqPerSec} req/s, p50 ${run.latencyMs.p50} ms, p99 ${run.latencyMs.p99} ms, failed ${run.failed}, split ${splitText(run.byWorker)}`);
        await sleep(200);
      }
      rounds.push(round_);
    } finally {
      await stopAll(contenders);
    }
  }

  // Reloads under a kept-alive autocannon load: where do the connections land afterwards?
  const afterReload = [];
  if (config.reloadRuns > 0) {
    const contenders = await startAll(['cluster', 'fw']);
    try {
      for (const name of ['cluster', 'fw']) await cannon(contenders[name].origin, { connections: config.connections, durationS: config.warmupS });
      for (let k = 0; k < config.reloadRuns; k++) {
        for (const name of rotate(['fw', 'cluster'], k)) {
          afterReload.push(await reloadRun(name, contenders[name], config));
          const last = afterReload.at(-1);
          say(`reload under load ${name}: failed ${last.failed}, after the reload ${splitText(last.afterReload.byNewWorker)} over the new workers${last.afterReload.fromOldWorkers ? ` (+${last.afterReload.fromOldWorkers} from old workers)` : ''}`);
        }
      }
    } finally {
      await stopAll(contenders);
    }
  }

  const result = {

    ...clock.header(),
    contenders: {
      single: 'plain Fastify, one process (bench/fixtures/single.mjs)',
      cluster: `node:cluster, ${config.workers} workers, default scheduling (round-robin on Linux), hand-written rolling restart on SIGHUP (bench/fixtures/cluster.mjs)`,
      fw: `fw start --workers ${config.workers} (bench/fixtures/hello-app)`,
    },
    rounds,
    afterReload,
  };
  result.summary = summarize(result);
  return result;
}

/**
 * Runs `measure` (an autocannon run) and adds the CPU time the contender's processes used meanwhile:
 * per request in the workers (µs; robust where requests/s is not, on a shared machine: it does not
 * depend on how much CPU the contender was given), and the master's / primary's share of a core.
 */
async function withCpu(contender, measure) {
  const workers = contender.workerPids();
  const before = workers.map(cpuTimeMs);
  const masterBefore = contender.masterPid ? cpuTimeMs(contender.masterPid) : null;
  const startedAt = performance.now();
  const run = await measure();
  const seconds = (performance.now() - startedAt) / 1000;
  const workerCpuMs = workers.reduce((total, pid, i) => total + ((cpuTimeMs(pid) ?? before[i]) - before[i]), 0);
  run.cpu = {
    workerCpuMs,
    workerUsPerRequest: run.ok ? round((workerCpuMs * 1000) / run.ok, 1) : null,
    workerCores: round(workerCpuMs / 1000 / seconds, 2),
    masterCorePct: masterBefore === null ? null : round(((cpuTimeMs(contender.masterPid) - masterBefore) / 10 / seconds), 1),
  };
  return run;
}

/**
 * autocannon against a contender; after `reloadSteadyS` a reload (SIGHUP); once every old worker
 * has exited (or `oldGoneTimeoutS` passed), `afterReloadS` more; then the split over the workers
 * in that last stretch.
 */
async function reloadRun(name, contender, config) {
  let stop;
  const stopSignal = new Promise((resolve) => {
    stop = resolve;
  });
  const running = cannon(contender.origin, { connections: config.connections, durationS: 120, timeline: true, stopSignal });
  try {
    await sleep(config.reloadSteadyS * 1000);
    const oldPids = contender.workerPids();
    const reload = await contender.reload();
    const gone = await whenGone(oldPids, config.oldGoneTimeoutS * 1000);
    const windowFrom = performance.now();
    await sleep(config.afterReloadS * 1000);
    const windowTo = performance.now();
    stop();
    const run = await running;
    const { times, pids } = run.timeline;
    const byNewWorker = Object.fromEntries(reload.pids.map((pid) => [pid, 0]));
    let fromOldWorkers = 0;
    let inWindow = 0;
    let firstNewAt = null;
    for (let i = 0; i < times.length; i++) {
      const pid = Number(pids[i]);
      if (firstNewAt === null && times[i] >= reload.sentAt && pid in byNewWorker) firstNewAt = times[i];
      if (times[i] < windowFrom || times[i] >= windowTo) continue;
      inWindow++;
      if (pid in byNewWorker) byNewWorker[pid]++;
      else fromOldWorkers++;
    }
    delete run.timeline;
    return {
      contender: name,
      failed: run.failed,
      errorsByKind: run.errorsByKind,
      statuses: run.statuses,
      reqPerSec: run.reqPerSec,
      latencyMs: run.latencyMs,
      reload: {
        rolloutMs: reload.rolloutMs,
        hupToReadyLineMs: round(reload.readyLineAt - reload.sentAt),
        hupToFirstNewResponseMs: firstNewAt === null ? null : round(firstNewAt - reload.sentAt),
        oldWorkersExited: gone,
        hupToOldWorkersGoneMs: gone ? round(windowFrom - reload.sentAt) : null,
      },
      afterReload: {
        windowMs: round(windowTo - windowFrom, 0),
        requests: inWindow,
        reqPerSec: round(inWindow / ((windowTo - windowFrom) / 1000), 0),
        byNewWorker,
        busiestNewWorkerShare: busiestShare(byNewWorker),
        fromOldWorkers,
      },
      run,
    };
  } finally {
    stop();
    await running.catch(() => undefined);
  }
}

function summarize(result) {
  const names = ['single', 'cluster', 'fw'];
  const per = {};
  for (const name of names) {
    const runs = result.rounds.map((r) => r.runs[name]);
    per[name] = {
      reqPerSecMedian: round(median(runs.map((x) => x.reqPerSec)), 0),
      reqPerSecRuns: runs.map((x) => x.reqPerSec),
      p50MsMedian: round(median(runs.map((x) => x.latencyMs.p50)), 2),
      p99MsMedian: round(median(runs.map((x) => x.latencyMs.p99)), 2),
      failed: sum(runs.map((x) => x.failed)),
      requests: sum(runs.map((x) => x.requests)),
      busiestWorkerRequestShareMedian: name === 'single' ? null : round(median(runs.map((x) => busiestShare(x.byWorker))), 3),
      busiestWorkerConnectionShareMedian: name === 'single' ? null : round(median(runs.map((x) => busiestShare(x.connectionsByWorker))), 3),
      workerUsPerRequestMedian: round(median(runs.map((x) => x.cpu.workerUsPerRequest)), 1),
      workerCoresMedian: round(median(runs.map((x) => x.cpu.workerCores)), 2),
      clientCoresMedian: round(median(runs.map((x) => x.clientCores)), 2),
      masterCorePctMedian: name === 'single' ? null : round(median(runs.map((x) => x.cpu.masterCorePct)), 1),
    };
  }
  const paired = (a, b) => round(median(result.rounds.map((r) => r.runs[a].reqPerSec / r.runs[b].reqPerSec)), 3);
  const reloads = (name) => result.afterReload.filter((x) => x.contender === name);
  const after = (name) => {
    const runs = reloads(name);
    if (!runs.length) return null;
    return {
      runs: runs.length,
      failed: sum(runs.map((x) => x.failed)),
      errorsByKind: runs.map((x) => x.errorsByKind),
      busiestNewWorkerShareMedian: round(median(runs.map((x) => x.afterReload.busiestNewWorkerShare)), 3),
      splits: runs.map((x) => splitText(x.afterReload.byNewWorker)),
      fromOldWorkers: sum(runs.map((x) => x.afterReload.fromOldWorkers)),
      oldWorkersAllExited: runs.every((x) => x.reload.oldWorkersExited),
      hupToFirstNewResponseMsMedian: round(median(runs.map((x) => x.reload.hupToFirstNewResponseMs)), 0),
    };
  };
  return {
    ...Object.fromEntries(names.map((name) => [name, per[name]])),
    fwToClusterThroughput: paired('fw', 'cluster'),
    fwToSingleThroughput: paired('fw', 'single'),
    clusterToSingleThroughput: paired('cluster', 'single'),
    fwToClusterOfMedians: ratio(per.fw.reqPerSecMedian, per.cluster.reqPerSecMedian),
    fwToClusterRuns: result.rounds.map((r) => round(r.runs.fw.reqPerSec / r.runs.cluster.reqPerSec, 3)),
    // CPU per request in the workers, fw over cluster: above 1, fw's workers spend more per request.
    fwToClusterCpuPerRequest: round(median(result.rounds.map((r) => r.runs.fw.cpu.workerUsPerRequest / r.runs.cluster.cpu.workerUsPerRequest)), 3),
    fwToSingleCpuPerRequest: round(median(result.rounds.map((r) => r.runs.fw.cpu.workerUsPerRequest / r.runs.single.cpu.workerUsPerRequest)), 3),
    afterReload: { fw: after('fw'), cluster: after('cluster') },
  };
}

export function throughputTable(result) {
  const s = result.summary;
  const c = result.config;
  const pct = (x) => (x === null || x === undefined ? '–' : `${Math.round(x * 100)}%`);
  const lines = [
    `Throughput: GET / → {"hello":"world"}, autocannon ${c.connections} keep-alive connections, ${c.durationS} s × ${c.rounds} interleaved rounds (medians)`,
    '',
    '| contender | req/s | p50 ms | p99 ms | failed | worker CPU per request | cores used: load generator / workers / master | busiest worker: requests / connections | after a reload under load: busiest new worker | failed during reload runs |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const name of ['single', 'cluster', 'fw']) {
    const p = s[name];
    const a = s.afterReload[name];
    lines.push(
      `| ${name} | ${p.reqPerSecMedian} | ${p.p50MsMedian} | ${p.p99MsMedian} | ${p.failed} of ${p.requests} | ${p.workerUsPerRequestMedian} µs | ${p.clientCoresMedian} / ${p.workerCoresMedian} / ${p.masterCorePctMedian === null ? '–' : p.masterCorePctMedian / 100} | ${name === 'single' ? '–' : `${pct(p.busiestWorkerRequestShareMedian)} / ${pct(p.busiestWorkerConnectionShareMedian)}`} | ${a ? `${pct(a.busiestNewWorkerShareMedian)} (${a.splits.join(', ')})${a.fromOldWorkers ? `, +${a.fromOldWorkers} answers from old workers` : ''}` : '–'} | ${a ? a.failed : '–'} |`,
    );
  }
  lines.push(
    '',
    `fw / cluster: **${s.fwToClusterThroughput}** (per round: ${s.fwToClusterRuns.join(', ')}); fw / single: **${s.fwToSingleThroughput}**; cluster / single: ${s.clusterToSingleThroughput}. ` +
      `Worker CPU per request, fw / cluster: ${s.fwToClusterCpuPerRequest}; fw / single: ${s.fwToSingleCpuPerRequest}.`,
  );
  return lines.join('\n');
}

if (isMainModule(import.meta.url)) await runBenchScript({ name: NAME, run: runThroughput, table: throughputTable });
