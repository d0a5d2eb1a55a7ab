#!/usr/bin/env node
// Memory and start: how much resident memory fw's master and workers take, against a plain
// Fastify process and a hand-written node:cluster serving the same app, and how long each takes
// from being started to its first response.
//
// Each repeat starts every contender afresh on a free port (order rotated each repeat), one at a
// time: start → first 2xx answer (a poller on fresh connections every 5 ms) is "start to first
// response"; then RSS of every process (Linux /proc VmRSS) once idle, and again after a short
// autocannon burst (servers grow under load). For fw, `fw status --json` is read too (its own `rss`
// figures), and the master's number is the one quoted. Medians over repeats.
//
// Usage: node bench/memory.mjs [--quick]     (writes bench/results/memory.json, or memory.quick.tmp
//        with --quick; prints a markdown table). Needs a build of fw.

import { performance } from 'node:perf_hooks';
import { startCluster, startSingle } from './lib/baselines.mjs';
import { prepareFwApp, startFw } from './lib/fw-process.mjs';
import { cannon, firstResponse } from './lib/load.mjs';
import { freePort, log, rssOf, sleep } from './lib/procs.mjs';
import { runClock } from './lib/results.mjs';
import { isMainModule, runBenchScript } from './lib/script.mjs';
import { mb, median, ratio, rotate, round } from './lib/stats.mjs';

const NAME = 'memory';
const say = (text) => log(NAME, text);
const KINDS = ['single', 'cluster', 'fw'];

export function memoryConfig(quick) {
  return quick
    ? { repeats: 1, workers: 2, loadS: 0.5, connections: 32, settleMs: 200 }
    : { repeats: 5, workers: 2, loadS: 3, connections: 32, settleMs: 1_000 };
}

/** `app`: an fw app from prepareFwApp() to reuse (the runner builds one for every phase). */
export async function runMemory({ quick = false, app: given } = {}) {
  const config = memoryConfig(quick);
  const clock = runClock(NAME, { quick, config });
  const app = given ?? (await prepareFwApp('memory'));
  const samples = [];
  for (let r = 0; r < config.repeats; r++) {
    for (const kind of rotate(KINDS, r)) {
      const sample = await measureOne(kind, app, config);
      sample.repeat = r;
      samples.push(sample);
      say(`repeat ${r + 1}/${config.repeats} ${kind}: start → first response ${sample.startToFirstResponseMs} ms; RSS after load: ${sample.loaded.masterRssMb ?? '–'} MB master/primary, ${sample.loaded.workerRssMb.join(' / ')} MB per worker`);
    }
  }
  const result = {
    ...clock.header(),
    samples,
  };
  result.summary = summarize(result);
  return result;
}

async function measureOne(kind, app, config) {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const startedAt = performance.now();
  const contender =
    kind === 'single'
      ? await startSingle({ port, waitForListening: false })
      : kind === 'cluster'
        ? await startCluster({ port, workers: config.workers, waitForListening: false })
        : await startFw(app, { port, workers: config.workers, waitForServing: false });
  try {
    const first = await firstResponse(origin, { timeoutMs: 60_000 });
    if (!first) throw new Error(`${kind}: no answer within 60 s:\n${contender.proc.tail()}`);
    const startToFirstResponseMs = round(first.at - startedAt);
    // Every worker up (fw and cluster answer as soon as one is).
    if (kind === 'fw') await contender.serving();
    else await contender.listening();
    // fw's start, in parts: the CLI and master up to its first rollout, then the workers' boot.
    const fwParts = kind === 'fw' ? await contender.firstRollout() : null;
    await sleep(config.settleMs);
    const idle = rss(contender);
    const burst = await cannon(origin, { connections: config.connections, durationS: config.loadS });
    await sleep(config.settleMs);
    const loaded = rss(contender);
    const sample = { kind, startToFirstResponseMs, idle, loaded, burst: { reqPerSec: burst.reqPerSec, failed: burst.failed } };
    if (kind === 'fw') {
      const status = await contender.quickStatus();
      sample.fwStatus = {
        masterRssMb: mb(status.rss),
        workerRssMb: status.workers.map((w) => mb(w.stats?.rss ?? null)),
        workerBootMs: status.workers.map((w) => w.bootTimings?.bootMs ?? null),
        workerImportMs: status.workers.map((w) => w.bootTimings?.importMs ?? null),
      };
      sample.fwStart = {
        spawnToFirstRolloutMs: round(fwParts.startingAt - startedAt),
        firstRolloutMs: fwParts.rolloutMs,
        servingLineMs: round(contender.servingAt - startedAt),
      };
    }
    return sample;
  } finally {
    await contender.stop();
  }
}

/** RSS (MB) of the master/primary (null for the single process) and of every worker. */
function rss(contender) {
  const workers = contender.workerPids();
  return {
    masterRssMb: contender.masterPid ? mb(rssOf(contender.masterPid)) : null,
    workerRssMb: workers.map((pid) => mb(rssOf(pid))),
  };
}

function summarize(result) {
  const of = (kind) => result.samples.filter((s) => s.kind === kind);
  const per = {};
  for (const kind of KINDS) {
    const samples = of(kind);
    per[kind] = {
      startToFirstResponseMsMedian: round(median(samples.map((s) => s.startToFirstResponseMs)), 0),
      startToFirstResponseMsRuns: samples.map((s) => s.startToFirstResponseMs),
      masterRssMbIdleMedian: kind === 'single' ? null : round(median(samples.map((s) => s.idle.masterRssMb)), 1),
      masterRssMbMedian: kind === 'single' ? null : round(median(samples.map((s) => s.loaded.masterRssMb)), 1),
      workerRssMbIdleMedian: round(median(samples.flatMap((s) => s.idle.workerRssMb)), 1),
      workerRssMbMedian: round(median(samples.flatMap((s) => s.loaded.workerRssMb)), 1),
      totalRssMbMedian: round(median(samples.map((s) => (s.loaded.masterRssMb ?? 0) + s.loaded.workerRssMb.reduce((a, b) => a + b, 0))), 1),
    };
  }
  const fwStatusMaster = median(of('fw').map((s) => s.fwStatus?.masterRssMb ?? null));
  per.fw.spawnToFirstRolloutMsMedian = round(median(of('fw').map((s) => s.fwStart.spawnToFirstRolloutMs)), 0);
  per.fw.firstRolloutMsMedian = round(median(of('fw').map((s) => s.fwStart.firstRolloutMs)), 0);
  per.fw.workerBootMsMedian = round(median(of('fw').flatMap((s) => s.fwStatus.workerBootMs)), 0);
  per.fw.workerImportMsMedian = round(median(of('fw').flatMap((s) => s.fwStatus.workerImportMs)), 0);
  return {
    ...per,
    masterRssMb: per.fw.masterRssMbMedian,
    masterRssMbFromFwStatus: round(fwStatusMaster, 1),
    fwWorkerToSingleRss: ratio(per.fw.workerRssMbMedian, per.single.workerRssMbMedian),
    clusterWorkerToSingleRss: ratio(per.cluster.workerRssMbMedian, per.single.workerRssMbMedian),
    fwMasterToClusterPrimaryRss: ratio(per.fw.masterRssMbMedian, per.cluster.masterRssMbMedian),
    fwStartToFirstResponseMs: per.fw.startToFirstResponseMsMedian,
    fwToSingleStart: ratio(per.fw.startToFirstResponseMsMedian, per.single.startToFirstResponseMsMedian),
    fwToClusterStart: ratio(per.fw.startToFirstResponseMsMedian, per.cluster.startToFirstResponseMsMedian),
  };
}

export function memoryTable(result) {
  const s = result.summary;
  const c = result.config;
  const lines = [
    `Memory and start: ${c.repeats} fresh starts of each (rotated), RSS from /proc idle and after a ${c.loadS} s autocannon burst (medians)`,
    '',
    '| contender | start → first response | master / primary RSS (idle → after load) | per worker RSS (idle → after load) | total RSS after load |',
    '| --- | ---: | ---: | ---: | ---: |',
  ];
  for (const kind of KINDS) {
    const p = s[kind];
    lines.push(
      `| ${kind} | ${p.startToFirstResponseMsMedian} ms | ${kind === 'single' ? '–' : `${p.masterRssMbIdleMedian} → ${p.masterRssMbMedian} MB`} | ${p.workerRssMbIdleMedian} → ${p.workerRssMbMedian} MB | ${p.totalRssMbMedian} MB |`,
    );
  }
  lines.push(
    '',
    `fw start in parts: spawn → first rollout begins ${s.fw.spawnToFirstRolloutMsMedian} ms (node, the CLI, config, the master), first rollout ${s.fw.firstRolloutMsMedian} ms (two workers at once; each: import ${s.fw.workerImportMsMedian} ms of ${s.fw.workerBootMsMedian} ms boot)`,
    '',
    `fw master RSS **${s.masterRssMb} MB** (fw status says ${s.masterRssMbFromFwStatus} MB; node:cluster primary ${s.cluster.masterRssMbMedian} MB, ratio ${s.fwMasterToClusterPrimaryRss}); fw worker / plain Fastify process RSS: ${s.fwWorkerToSingleRss}; start to first response fw / single: ${s.fwToSingleStart}, fw / cluster: ${s.fwToClusterStart}`,
  );
  return lines.join('\n');
}

if (isMainModule(import.meta.url)) await runBenchScript({ name: NAME, run: runMemory, table: memoryTable });
