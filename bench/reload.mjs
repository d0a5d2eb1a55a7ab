#!/usr/bin/env node
// Reloads under keep-alive load: `fw start --workers 2` and SIGHUP, side by side with the
// hand-written node:cluster's rolling restart (bench/fixtures/cluster.mjs: fork new workers, then
// `worker.disconnect()` the old ones), same app, same load, sessions taking turns. fw runs the app
// twice over, as two contenders: "fw (factory)", bench/fixtures/hello-app (src/app.ts
// default-exports the factory), and "fw (listen entry)", bench/fixtures/hello-listen (src/server.ts
// builds the same app and calls `await app.listen({ port: Number(process.env.PORT ?? 3000), host:
// process.env.HOST })` itself, no default export: fw serves that server on the master's sockets).
//
// A session: a never-retrying keep-alive load (undici, 32 connections, one Client each, a short
// pause after every answer; every request counted: ok, HTTP status, error code) against one
// contender; a steady stretch; then reloads one after another, each: SIGHUP → the new generation
// serving (the first answer from one of its pids) → every old worker exited (bounded) → a stretch
// in which the split over the new workers is counted. In the sessions of both fw contenders, after
// each reload, the baseline for "the worker's own boot time": two plain Fastify processes
// (bench/fixtures/single.mjs) started at once under the same load, timed from spawn until both
// have answered.
//
// Figures: failed requests by kind (steady, during reloads, overall), p99 latency of the requests
// sent during reloads (HUP → old workers gone) against the steady stretch, HUP → serving against
// that boot baseline (as a difference and as a ratio, for each fw contender against the boots
// measured in its own sessions; and the listen entry's HUP → serving against the factory's), fw's
// own per-worker boot (spawn → ready, from `fw status --json`), and how requests spread over the
// new workers after the reload. The load average is recorded at the start, per session, and at the
// end.
//
// Usage: node bench/reload.mjs [--quick]     (writes bench/results/reload.json, or reload.quick.tmp
//        with --quick; prints a markdown table). Needs a build of fw.

import { performance } from 'node:perf_hooks';
import { startCluster, startSingle } from './lib/baselines.mjs';
import { prepareFwApp, startFw, whenGone } from './lib/fw-process.mjs';
import { firstResponse, startRequestLoad, windowSummary } from './lib/load.mjs';
import { freePort, log, removeTempDir, sleep } from './lib/procs.mjs';
import { machine, runClock } from './lib/results.mjs';
import { isMainModule, runBenchScript } from './lib/script.mjs';
import { busiestShare, median, mergeCounts, quantile, ratio, rotate, round, splitText, sum } from './lib/stats.mjs';

const NAME = 'reload';
const say = (text) => log(NAME, text);
/** The contenders, in the order of the first session (later sessions rotate it). */
const CONTENDERS = ['fw', 'fwListen', 'cluster'];
/** The two fw contenders: the same app, as a factory and as an entry that calls listen itself. */
const FW_CONTENDERS = ['fw', 'fwListen'];
const LABELS = { fw: 'fw (factory)', fwListen: 'fw (listen entry)', cluster: 'cluster' };
const loadavg = () => machine().loadavg;

export function reloadConfig(quick) {
  return quick
    ? { connections: 32, pauseMs: 5, workers: 2, sessions: 1, reloadsPerSession: { fw: 2, cluster: 1 }, plainBootAfterEveryReload: false, warmMs: 300, steadyMs: 1_000, afterMs: 700, oldGoneTimeoutMs: 3_000 }
    : { connections: 32, pauseMs: 5, workers: 2, sessions: 3, reloadsPerSession: { fw: 3, cluster: 3 }, plainBootAfterEveryReload: true, warmMs: 500, steadyMs: 4_000, afterMs: 2_500, oldGoneTimeoutMs: 8_000 };
}

/**
 * `app`: a factory fw app from prepareFwApp() to reuse (the runner builds one for every phase); the
 * listen-entry app (bench/fixtures/hello-listen) is built here.
 */
export async function runReload({ quick = false, app: given } = {}) {
  const config = reloadConfig(quick);
  const loadavgAtStart = loadavg();
  const clock = runClock(NAME, { quick, config });
  const app = given ?? (await prepareFwApp('reload'));
  const listenApp = await prepareFwApp('reload-listen', { fixture: 'hello-listen' });
  const started = await Promise.allSettled([
    startFw(app, { workers: config.workers, name: 'fw start (factory)' }),
    startFw(listenApp, { workers: config.workers, name: 'fw start (listen entry)' }),
    startCluster({ workers: config.workers }),
  ]);
  const contenders = Object.fromEntries(CONTENDERS.map((name, i) => [name, started[i].value]));
  try {
    const failedToStart = started.find((s) => s.status === 'rejected');
    if (failedToStart) throw failedToStart.reason;
    const sessions = [];
    for (let s = 0; s < config.sessions; s++) {
      for (const name of rotate(CONTENDERS, s)) {
        const session = await runSession(name, contenders[name], config, s);
        sessions.push(session);
        for (const r of session.reloads) {
          say(`session ${s + 1}/${config.sessions} ${LABELS[name]} reload: HUP → serving ${r.hupToServingMs} ms${r.plainBootMs !== undefined ? ` (2 plain processes boot in ${r.plainBootMs} ms)` : ''}, failed ${r.during.failed}, p99 ${r.during.latencyMs.p99} ms (steady ${session.steady.latencyMs.p99} ms), after: ${splitText(r.after.byNewWorker)}`);
        }
      }
    }
    const result = {
      ...clock.header(),
      loadavgAtStart,
      loadavgAtEnd: loadavg(),
      apps: { fw: app.fixture, fwListen: listenApp.fixture },
      sessions,
    };
    result.summary = summarize(result);
    return result;
  } finally {
    await Promise.allSettled(Object.values(contenders).filter(Boolean).map((c) => c.stop()));
    await removeTempDir(listenApp.root).catch(() => undefined);
  }
}

async function runSession(name, contender, config, index) {
  const loadavgAtStart = loadavg();
  const load = startRequestLoad(contender.origin, { connections: config.connections, pauseMs: config.pauseMs });
  const loadStartedAt = performance.now();
  const reloads = [];
  let steadyFrom;
  let steadyTo;
  try {
    await sleep(config.warmMs);
    steadyFrom = performance.now();
    await sleep(config.steadyMs);
    steadyTo = performance.now();
    const count = config.reloadsPerSession[contender.kind];
    for (let i = 0; i < count; i++) {
      const oldPids = contender.workerPids();
      const reload = await contender.reload();
      const newPids = new Set(reload.pids);
      const isNew = (e) => e.ok && newPids.has(e.pid) && e.at >= reload.sentAt;
      const firstNew = load.log.find(isNew) ?? (await load.waitFor(isNew, 30_000));
      const gone = await whenGone(oldPids, config.oldGoneTimeoutMs);
      const goneAt = performance.now();
      await sleep(config.afterMs);
      const afterTo = performance.now();
      const record = {
        reload: i,
        oldPids,
        newPids: reload.pids,
        rolloutMs: reload.rolloutMs,
        hupToReadyLineMs: round(reload.readyLineAt - reload.sentAt),
        hupToServingMs: firstNew ? round(firstNew.at - reload.sentAt) : null,
        oldWorkersExited: gone,
        hupToOldGoneMs: gone ? round(goneAt - reload.sentAt) : null,
        // Requests sent from the HUP until every old worker had exited (or the bound).
        during: windowSummary(load.log, reload.sentAt, goneAt),
        after: afterWindow(load.log, goneAt, afterTo, reload.pids),
        window: { sentAt: reload.sentAt, goneAt, afterTo },
      };
      if (contender.kind === 'fw') {
        // What fw says of the new workers' own boot: spawn → ready as the master saw it, and
        // the worker's own import + app start-up.
        const status = await contender.quickStatus().catch(() => null);
        const fresh = status?.workers.filter((w) => reload.pids.includes(w.pid)) ?? [];
        record.fwStatus = {
          lastRolloutMs: status?.lastRollout?.ms ?? null,
          workerSpawnToReadyMs: fresh.map((w) => (w.readyAt ? w.readyAt - w.startedAt : null)),
          workerBootMs: fresh.map((w) => w.bootTimings?.bootMs ?? null),
          workerImportMs: fresh.map((w) => w.bootTimings?.importMs ?? null),
        };
        if (config.plainBootAfterEveryReload || i === count - 1) {
          const boot = await plainBoot(2);
          record.plainBootMs = boot.ms;
          record.plainBoot = boot;
        }
      }
      reloads.push(record);
    }
  } finally {
    await load.stop();
  }
  const log_ = load.log;
  const reloadWindows = reloads.map((r) => [r.window.sentAt, r.window.goneAt]);
  const inReload = (e) => reloadWindows.some(([from, to]) => e.sent >= from && e.sent < to);
  const failedAll = log_.filter((e) => !e.ok);
  const failures = {};
  for (const e of failedAll) failures[e.error ?? `HTTP ${e.status}`] = (failures[e.error ?? `HTTP ${e.status}`] ?? 0) + 1;
  const duringLatencies = log_.filter((e) => e.ok && inReload(e)).map((e) => e.at - e.sent);
  return {
    contender: name,
    session: index,
    loadavgAtStart,
    requests: log_.length,
    ok: log_.length - failedAll.length,
    failed: failedAll.length,
    failures,
    failedDuringReloads: failedAll.filter(inReload).length,
    connectionsOpened: load.connects.length,
    steady: windowSummary(log_, steadyFrom, steadyTo),
    duringReloadsP99Ms: round(quantile(duringLatencies, 0.99), 2),
    duringReloadsP50Ms: round(quantile(duringLatencies, 0.5), 2),
    loadMs: round(performance.now() - loadStartedAt, 0),
    reloads,
  };
}

/** The split over the new workers of the answers to requests sent in [from, to). */
function afterWindow(log_, from, to, newPids) {
  const summary = windowSummary(log_, from, to);
  const byNewWorker = Object.fromEntries(newPids.map((pid) => [pid, summary.byWorker[pid] ?? 0]));
  const connectionsByNewWorker = Object.fromEntries(newPids.map((pid) => [pid, summary.connectionsByWorker[pid] ?? 0]));
  const fromOldWorkers = sum(Object.entries(summary.byWorker).filter(([pid]) => !newPids.includes(Number(pid))).map(([, n]) => n));
  return {
    ms: summary.ms,
    requests: summary.requests,
    failed: summary.failed,
    reqPerSec: summary.reqPerSec,
    byNewWorker,
    busiestShare: busiestShare(byNewWorker),
    connectionsByNewWorker,
    busiestConnectionShare: busiestShare(connectionsByNewWorker),
    fromOldWorkers,
  };
}

/**
 * The boot of `count` plain Fastify processes started at once (the same app, no fw): spawn until
 * every one of them has answered a request. The yardstick for "the worker's own boot time".
 */
async function plainBoot(count) {
  const ports = await Promise.all(Array.from({ length: count }, freePort));
  const from = performance.now();
  const procs = ports.map((port) => startSingle({ port, waitForListening: false }));
  const singles = await Promise.all(procs);
  try {
    const answers = await Promise.all(ports.map((port) => firstResponse(`http://127.0.0.1:${port}`, { timeoutMs: 30_000 })));
    const to = performance.now();
    return {
      from,
      to,
      ms: answers.every(Boolean) ? round(Math.max(...answers.map((a) => a.at)) - from) : null,
      eachMs: answers.map((a) => (a ? round(a.at - from) : null)),
    };
  } finally {
    await Promise.allSettled(singles.map((s) => s.stop()));
  }
}

function summarize(result) {
  const per = {};
  for (const name of CONTENDERS) {
    const sessions = result.sessions.filter((s) => s.contender === name);
    const reloads = sessions.flatMap((s) => s.reloads);
    const steadyP99 = median(sessions.map((s) => s.steady.latencyMs.p99));
    const duringP99 = median(sessions.map((s) => s.duringReloadsP99Ms));
    per[name] = {
      sessions: sessions.length,
      reloads: reloads.length,
      requests: sum(sessions.map((s) => s.requests)),
      failedRequests: sum(sessions.map((s) => s.failed)),
      failedDuringReloads: sum(sessions.map((s) => s.failedDuringReloads)),
      failures: mergeCounts(sessions.map((s) => s.failures)),
      steadyReqPerSecMedian: round(median(sessions.map((s) => s.steady.reqPerSec)), 0),
      steadyP50MsMedian: round(median(sessions.map((s) => s.steady.latencyMs.p50)), 2),
      steadyP99MsMedian: round(steadyP99, 2),
      duringReloadsP99MsMedian: round(duringP99, 2),
      p99DuringToSteady: ratio(duringP99, steadyP99, 2),
      hupToServingMsMedian: round(median(reloads.map((r) => r.hupToServingMs)), 0),
      hupToServingMsRuns: reloads.map((r) => r.hupToServingMs),
      hupToReadyLineMsMedian: round(median(reloads.map((r) => r.hupToReadyLineMs)), 0),
      hupToOldGoneMsMedian: round(median(reloads.map((r) => r.hupToOldGoneMs)), 0),
      oldWorkersExitedEveryTime: reloads.every((r) => r.oldWorkersExited),
      oldWorkersStillServingAfterBound: reloads.filter((r) => !r.oldWorkersExited).length,
      afterReloadBusiestShareMedian: round(median(reloads.map((r) => r.after.busiestShare)), 3),
      afterReloadSplits: reloads.map((r) => splitText(r.after.byNewWorker)),
      afterReloadBusiestConnectionShareMedian: round(median(reloads.map((r) => r.after.busiestConnectionShare)), 3),
      afterReloadConnectionSplits: reloads.map((r) => splitText(r.after.connectionsByNewWorker)),
      afterReloadWorstBusiestShare: round(Math.max(...reloads.map((r) => r.after.busiestShare ?? 0)), 3),
      afterReloadFromOldWorkers: sum(reloads.map((r) => r.after.fromOldWorkers)),
    };
    if (FW_CONTENDERS.includes(name)) {
      // The plain boots measured after this contender's own reloads, in its own sessions.
      const plain = reloads.map((r) => r.plainBootMs).filter((x) => x !== undefined);
      const plainMedian = median(plain);
      const spawnToReady = reloads.map((r) => Math.max(...(r.fwStatus?.workerSpawnToReadyMs ?? []).filter((x) => x !== null)));
      Object.assign(per[name], {
        plainBootMsMedian: round(plainMedian, 0),
        plainBootMsRuns: plain,
        hupToServingMinusPlainBootMsMedian: round(median(reloads.map((r) => r.hupToServingMs)) - plainMedian, 0),
        // "HUP → serving within the same ratio to a plain boot": median HUP → serving ÷ median plain boot.
        hupToServingToPlainBoot: ratio(median(reloads.map((r) => r.hupToServingMs)), plainMedian, 2),
        workerSpawnToReadyMsMedian: round(median(spawnToReady.filter(Number.isFinite)), 0),
        hupToServingMinusWorkerSpawnToReadyMsMedian: round(median(reloads.map((r, i) => (r.hupToServingMs !== null && Number.isFinite(spawnToReady[i]) ? r.hupToServingMs - spawnToReady[i] : null))), 0),
        workerBootMsMedian: round(median(reloads.flatMap((r) => r.fwStatus?.workerBootMs ?? [])), 0),
        workerImportMsMedian: round(median(reloads.flatMap((r) => r.fwStatus?.workerImportMs ?? [])), 0),
        lastRolloutMsMedian: round(median(reloads.map((r) => r.fwStatus?.lastRolloutMs ?? null)), 0),
      });
    }
  }
  return {
    ...per,
    // The headline figures stay the factory contender's (as before the listen entry joined).
    reloadFailedRequests: per.fw.failedRequests,
    hupToServingMs: per.fw.hupToServingMsMedian,
    plainBootMs: per.fw.plainBootMsMedian,
    hupToServingToPlainBoot: per.fw.hupToServingToPlainBoot,
    reloadP99DuringToSteady: per.fw.p99DuringToSteady,
    listenEntry: {
      failedRequests: per.fwListen.failedRequests,
      requests: per.fwListen.requests,
      reloads: per.fwListen.reloads,
      hupToServingMs: per.fwListen.hupToServingMsMedian,
      plainBootMs: per.fwListen.plainBootMsMedian,
      hupToServingMinusPlainBootMs: per.fwListen.hupToServingMinusPlainBootMsMedian,
      hupToServingToPlainBoot: per.fwListen.hupToServingToPlainBoot,
      p99DuringToSteady: per.fwListen.p99DuringToSteady,
      // Listen entry ÷ factory: HUP → serving medians, and their ratios to a plain boot.
      hupToServingToFactory: ratio(per.fwListen.hupToServingMsMedian, per.fw.hupToServingMsMedian, 2),
      plainBootRatioToFactory: ratio(per.fwListen.hupToServingToPlainBoot, per.fw.hupToServingToPlainBoot, 2),
    },
    loadavgAtStart: result.loadavgAtStart,
    loadavgAtEnd: result.loadavgAtEnd,
  };
}

export function reloadTable(result) {
  const s = result.summary;
  const c = result.config;
  const failures = (f) => (Object.keys(f).length ? Object.entries(f).map(([k, n]) => `${n}× ${k}`).join(', ') : 'none');
  const lines = [
    `Reloads under load: ${c.connections} kept-alive connections (undici, no retries, ${c.pauseMs} ms pause after each answer), ${c.sessions} session(s) per contender, taking turns, ${c.reloadsPerSession.fw} (each fw) / ${c.reloadsPerSession.cluster} (cluster) reloads per session (medians). fw (factory): src/app.ts default-exports the factory; fw (listen entry): src/server.ts calls \`await app.listen(…)\` itself.`,
    '',
    '| contender | reloads | failed requests (kinds) | steady req/s | steady p99 ms | p99 ms during reloads | ratio | HUP → new generation serving | HUP → old workers gone | after the reload: requests over the new workers (connections) |',
    '| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const name of CONTENDERS) {
    const p = s[name];
    lines.push(
      `| ${LABELS[name]} | ${p.reloads} | ${p.failedRequests} of ${p.requests} (${failures(p.failures)}) | ${p.steadyReqPerSecMedian} | ${p.steadyP99MsMedian} | ${p.duringReloadsP99MsMedian} | ${p.p99DuringToSteady}× | ${p.hupToServingMsMedian} ms | ${p.hupToOldGoneMsMedian === null ? `not within ${c.oldGoneTimeoutMs / 1000} s` : `${p.hupToOldGoneMsMedian} ms`}${p.oldWorkersStillServingAfterBound ? ` (${p.oldWorkersStillServingAfterBound}× still alive after ${c.oldGoneTimeoutMs / 1000} s)` : ''} | ${p.afterReloadSplits.map((split, i) => `${split} (${p.afterReloadConnectionSplits[i]})`).join(', ')}${p.afterReloadFromOldWorkers ? ` (+${p.afterReloadFromOldWorkers} from old workers)` : ''} |`,
    );
  }
  lines.push('');
  for (const name of FW_CONTENDERS) {
    const f = s[name];
    lines.push(
      `- ${LABELS[name]}: HUP → serving ${f.hupToServingMsMedian} ms (runs: ${f.hupToServingMsRuns.join(', ')}); two plain Fastify processes booted at once under the same load, after its reloads: ${f.plainBootMsMedian} ms (runs: ${f.plainBootMsRuns.join(', ')}); difference ${f.hupToServingMinusPlainBootMsMedian} ms, ratio **${f.hupToServingToPlainBoot}×**. ` +
        `fw's own view: spawn → ready ${f.workerSpawnToReadyMsMedian} ms per worker (import ${f.workerImportMsMedian} ms, boot ${f.workerBootMsMedian} ms), rollout ${f.lastRolloutMsMedian} ms; HUP → serving minus spawn → ready ${f.hupToServingMinusWorkerSpawnToReadyMsMedian} ms.`,
    );
  }
  const l = s.listenEntry;
  lines.push(
    `- Listen entry ÷ factory: HUP → serving ${l.hupToServingToFactory}×; ratio to a plain boot ${l.hupToServingToPlainBoot}× against ${s.fw.hupToServingToPlainBoot}×.`,
    '',
    `Load average at the start ${(result.loadavgAtStart ?? []).join(' ')}, at the end ${(result.loadavgAtEnd ?? []).join(' ')}; per session: ${result.sessions.map((x) => `${LABELS[x.contender]} ${x.loadavgAtStart?.[0]}`).join(', ')} (1 min).`,
  );
  return lines.join('\n');
}

if (isMainModule(import.meta.url)) await runBenchScript({ name: NAME, run: runReload, table: reloadTable });
