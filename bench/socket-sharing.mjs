#!/usr/bin/env node
// How should fw's worker processes share the listening socket?
//
// Compares three ways of running 2 worker processes behind one port:
//   cluster-rr     node:cluster, SCHED_RR: the primary accepts every connection and hands it off
//   cluster-none   node:cluster, SCHED_NONE: the primary binds, workers accept on the shared handle
//   shared-handle  no node:cluster: the master binds a handle (never listens/accepts on it), sends it
//                  to child_process.fork() children, and each child does httpServer.listen(handle)
//
// For each mode: keep-alive throughput, new-connection (Connection: close) throughput, and failed
// requests during 3 rolling restarts under keep-alive load (fw's drain: stop listening, answer with
// Connection: close, exit when the last connection is gone, 10 s backstop).
//
// Usage: node bench/socket-sharing.mjs            (about 3.5 minutes)
// Prints a markdown table; writes raw data to bench/results/socket-sharing.json.
// Trial/partial runs (written to bench/results/socket-sharing.partial.tmp instead):
//   SOCKET_BENCH_RUNS (default 3), SOCKET_BENCH_DURATION (seconds, default 8),
//   SOCKET_BENCH_MODES (comma list, also sets the order), SOCKET_BENCH_PHASES (keepAlive,close,rolling).
// One file, three roles: `main` (default, the load generator), `master <mode>`, `worker <mode>`.

import cluster from 'node:cluster';
import { fork } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

const SCRIPT = fileURLToPath(import.meta.url);
const ALL_MODES = ['cluster-rr', 'cluster-none', 'shared-handle'];
const ALL_PHASES = ['keepAlive', 'close', 'rolling'];
const WORKERS = 2;
const BODY = Buffer.from(JSON.stringify({ hello: 'world' }));

const role = cluster.isWorker ? 'worker' : (process.argv[2] ?? 'main');
if (role === 'worker') runWorker(process.argv[3]);
else if (role === 'master') runMaster(process.argv[3]);
else await runMain();

// ─────────────────────────────────────────────────────────────── worker ──

function runWorker(mode) {
  const pid = process.pid;
  let reqs = 0;
  let conns = 0;
  let cpu0 = process.cpuUsage();
  let drainStartedAt = 0;

  const server = http.createServer((_req, res) => {
    reqs++;
    res.statusCode = 200;
    res.setHeader('content-type', 'application/json');
    res.setHeader('content-length', BODY.length);
    res.setHeader('x-worker', String(pid));
    res.end(BODY);
  });
  server.on('connection', () => { conns++; });
  server.on('error', (err) => {
    send({ type: 'error', pid, message: String(err?.stack ?? err) }, () => process.exit(1));
  });

  function send(msg, cb) {
    if (process.connected) process.send(msg, cb);
    else cb?.();
  }

  function drain() {
    if (drainStartedAt) return;
    drainStartedAt = performance.now();
    // Every further response tells the client to go away...
    server.prependListener('request', (_req, res) => { res.setHeader('connection', 'close'); });
    const finish = (forced) => {
      const msg = { type: 'final', pid, reqs, conns, forced, drainMs: performance.now() - drainStartedAt };
      send(msg, () => process.exit(0));
      setTimeout(() => process.exit(0), 500).unref();
    };
    // ...and only the listening side is closed (http.Server#close would also drop idle keep-alive sockets).
    net.Server.prototype.close.call(server, () => finish(false));
    setTimeout(() => finish(true), 10_000).unref();
  }

  process.on('message', (msg, handle) => {
    switch (msg?.type) {
      case 'socket': // shared-handle: a bound, not yet listening TCP handle from the master
        server.listen(handle, () => send({ type: 'listening', pid }));
        break;
      case 'listen': // cluster modes: the primary does the binding
        server.listen(msg.port, '127.0.0.1', () => send({ type: 'listening', pid }));
        break;
      case 'reset':
        reqs = 0; conns = 0; cpu0 = process.cpuUsage();
        send({ type: 'reply', id: msg.id, pid });
        break;
      case 'stats': {
        const cpu = process.cpuUsage(cpu0);
        send({ type: 'reply', id: msg.id, pid, reqs, conns, cpuMs: (cpu.user + cpu.system) / 1000 });
        break;
      }
      case 'drain':
        drain();
        break;
    }
  });
  // Never outlive the master.
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready', pid, mode });
}

// ─────────────────────────────────────────────────────────────── master ──

async function runMaster(mode) {
  if (!ALL_MODES.includes(mode)) throw new Error(`unknown mode ${mode}`);
  const workers = new Map(); // pid -> record
  let handle = null;
  let port = 0;
  let seq = 0;
  let cpu0 = process.cpuUsage();
  let wall0 = performance.now();

  const emit = (msg) => { if (process.connected) process.send(msg); };

  if (mode === 'shared-handle') {
    // Bound, not listening. The master never calls listen() on it, so it never accepts.
    handle = net._createServerHandle('127.0.0.1', 0, 4, undefined, 0);
    if (typeof handle === 'number') throw new Error(`_createServerHandle failed: errno ${handle}`);
    const out = {};
    const err = handle.getsockname(out);
    if (err) throw new Error(`getsockname failed: errno ${err}`);
    port = out.port;
  } else {
    cluster.schedulingPolicy = mode === 'cluster-rr' ? cluster.SCHED_RR : cluster.SCHED_NONE;
    cluster.setupPrimary({ exec: SCRIPT, args: ['worker', mode] });
    port = await new Promise((resolve, reject) => {
      const s = net.createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
    });
  }

  function spawnWorker() {
    return new Promise((resolve, reject) => {
      let rec;
      const onMessage = (msg) => {
        if (msg?.type === 'ready') {
          if (mode === 'shared-handle') rec.send({ type: 'socket' }, handle);
          else rec.send({ type: 'listen', port });
        } else if (msg?.type === 'listening') {
          rec.state = 'live';
          clearTimeout(timer);
          resolve(rec);
        } else if (msg?.type === 'reply') {
          const p = rec.pending.get(msg.id);
          if (p) { rec.pending.delete(msg.id); p(msg); }
        } else if (msg?.type === 'final') {
          rec.final = msg;
        } else if (msg?.type === 'error') {
          emit({ event: 'worker-error', pid: rec.pid, message: msg.message });
        }
      };
      const onExit = (code, signal) => {
        workers.delete(rec.pid);
        clearTimeout(rec.backstop);
        for (const p of rec.pending.values()) p(null);
        rec.pending.clear();
        // The worker's last IPC message can arrive just after 'exit'; give it a moment.
        setTimeout(() => emit({ event: 'worker-exit', pid: rec.pid, code, signal, state: rec.state, final: rec.final ?? null }), 100);
        if (rec.state === 'starting') { clearTimeout(timer); reject(new Error(`worker ${rec.pid} exited before listening`)); }
      };
      if (mode === 'shared-handle') {
        const child = fork(SCRIPT, ['worker', mode], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
        rec = { pid: child.pid, send: (m, h) => { if (child.connected) child.send(m, h); }, kill: (sig) => child.kill(sig) };
        child.on('message', onMessage);
        child.on('exit', onExit);
        child.on('error', () => {});
      } else {
        const w = cluster.fork();
        rec = { pid: w.process.pid, send: (m) => { if (w.isConnected()) w.send(m); }, kill: (sig) => w.process.kill(sig) };
        w.on('message', onMessage);
        w.on('exit', onExit);
        w.on('error', () => {});
      }
      rec.state = 'starting';
      rec.pending = new Map();
      rec.spawnedAt = Date.now();
      workers.set(rec.pid, rec);
      emit({ event: 'worker-spawned', pid: rec.pid });
      const timer = setTimeout(() => { rec.kill('SIGKILL'); reject(new Error(`worker ${rec.pid} did not listen in 10 s`)); }, 10_000);
    });
  }

  const live = () => [...workers.values()].filter((w) => w.state === 'live');

  function ask(rec, type) {
    return new Promise((resolve) => {
      const id = ++seq;
      const t = setTimeout(() => { rec.pending.delete(id); resolve(null); }, 3000);
      rec.pending.set(id, (msg) => { clearTimeout(t); resolve(msg); });
      rec.send({ type, id });
    });
  }

  async function rollingRestart() {
    const old = live();
    const t0 = performance.now();
    await Promise.all(Array.from({ length: WORKERS }, spawnWorker));
    const spawnMs = performance.now() - t0;
    for (const w of old) {
      w.state = 'draining';
      w.send({ type: 'drain' });
      // The worker exits by itself after 10 s at the latest; this is the master's backstop behind that.
      w.backstop = setTimeout(() => w.kill('SIGKILL'), 11_000);
    }
    return { oldPids: old.map((w) => w.pid), newPids: live().map((w) => w.pid), spawnMs };
  }

  async function shutdown() {
    const all = [...workers.values()];
    for (const w of all) w.kill('SIGTERM');
    const deadline = Date.now() + 2000;
    while (workers.size && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const w of workers.values()) w.kill('SIGKILL');
    while (workers.size && Date.now() < deadline + 1000) await new Promise((r) => setTimeout(r, 20));
    if (handle) handle.close();
  }

  const commands = {
    async start() {
      await Promise.all(Array.from({ length: WORKERS }, spawnWorker));
      return { port, pids: live().map((w) => w.pid) };
    },
    async reset() {
      await Promise.all(live().map((w) => ask(w, 'reset')));
      cpu0 = process.cpuUsage();
      wall0 = performance.now();
      return {};
    },
    async stats() {
      const cpu = process.cpuUsage(cpu0);
      const wallMs = performance.now() - wall0;
      const replies = await Promise.all(live().map((w) => ask(w, 'stats')));
      return {
        wallMs,
        masterCpuMs: (cpu.user + cpu.system) / 1000,
        workers: replies.filter(Boolean).map(({ pid, reqs, conns, cpuMs }) => ({ pid, reqs, conns, cpuMs })),
      };
    },
    restart: rollingRestart,
    async shutdown() {
      await shutdown();
      return {};
    },
  };

  process.on('message', async (msg) => {
    const fn = commands[msg?.cmd];
    if (!fn) return;
    try {
      const result = await fn();
      emit({ id: msg.id, result });
    } catch (err) {
      emit({ id: msg.id, error: String(err?.stack ?? err) });
    }
    if (msg.cmd === 'shutdown') process.exit(0);
  });
  // If the benchmark driver dies, take the workers down with us.
  process.on('disconnect', async () => { await shutdown(); process.exit(0); });
  emit({ event: 'ready', pid: process.pid });
}

// ───────────────────────────────────────────────────────────────── main ──

async function runMain() {
  const { default: autocannon } = await import('autocannon');
  const { Pool } = await import('undici');

  const env = process.env;
  const list = (v, all) => {
    if (!v) return all;
    const xs = v.split(',').map((x) => x.trim()).filter(Boolean);
    for (const x of xs) if (!all.includes(x)) throw new Error(`unknown ${x}; expected one of ${all.join(', ')}`);
    return xs;
  };
  const MODES = list(env.SOCKET_BENCH_MODES, ALL_MODES);
  const PHASES = list(env.SOCKET_BENCH_PHASES, ALL_PHASES);
  const partial = ['SOCKET_BENCH_RUNS', 'SOCKET_BENCH_DURATION', 'SOCKET_BENCH_MODES', 'SOCKET_BENCH_PHASES'].some((k) => env[k]);
  const RUNS = Number(process.env.SOCKET_BENCH_RUNS ?? 3);
  const DURATION = Number(process.env.SOCKET_BENCH_DURATION ?? 8);
  const CONNECTIONS = 32;
  const RESTART_LOAD_MS = 10_000;
  const RESTARTS = 3;
  const WINDOW_MS = 2000;

  const startedAt = new Date();
  const t0 = performance.now();
  const log = (...a) => console.error(`[${((performance.now() - t0) / 1000).toFixed(1)}s]`, ...a);

  const masters = {}; // mode -> { child, port, rpc }
  const pids = new Set(); // every process we started, masters and workers
  const exits = []; // worker-exit events
  const workerErrors = [];

  // Hard watchdog: never run longer than 6 minutes, whatever happens.
  const watchdog = setTimeout(async () => {
    log('watchdog fired; cleaning up');
    await cleanup();
    process.exit(2);
  }, 6 * 60_000);

  let cleaning = null;
  async function cleanup() {
    cleaning ??= (async () => {
      await Promise.all(Object.values(masters).map((m) => m.rpc('shutdown', 5000).catch(() => {})));
      await sleep(200);
      for (const pid of pids) {
        if (alive(pid)) { try { process.kill(pid, 'SIGKILL'); } catch {} }
      }
      await sleep(100);
      return [...pids].filter(alive);
    })();
    return cleaning;
  }
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.on(sig, async () => { await cleanup(); process.exit(130); });
  }

  function startMaster(mode) {
    return new Promise((resolve, reject) => {
      const child = fork(SCRIPT, ['master', mode], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      pids.add(child.pid);
      const pending = new Map();
      let seq = 0;
      const rpc = (cmd, timeoutMs = 15_000) => new Promise((res, rej) => {
        if (!child.connected) return rej(new Error(`${mode} master not connected`));
        const id = ++seq;
        const t = setTimeout(() => { pending.delete(id); rej(new Error(`${mode}: ${cmd} timed out`)); }, timeoutMs);
        pending.set(id, { res, rej, t });
        child.send({ id, cmd });
      });
      const m = { mode, child, rpc, port: 0, restartEvents: [] };
      child.on('message', (msg) => {
        if (msg.id && pending.has(msg.id)) {
          const p = pending.get(msg.id);
          pending.delete(msg.id);
          clearTimeout(p.t);
          if (msg.error) p.rej(new Error(msg.error)); else p.res(msg.result);
        } else if (msg.event === 'ready') {
          resolve(m);
        } else if (msg.event === 'worker-spawned') {
          pids.add(msg.pid);
        } else if (msg.event === 'worker-exit') {
          exits.push({ mode, at: performance.now(), ...msg });
          m.onWorkerExit?.(msg);
        } else if (msg.event === 'worker-error') {
          workerErrors.push({ mode, ...msg });
          log(`${mode} worker error`, msg.message);
        }
      });
      child.on('exit', (code) => {
        for (const p of pending.values()) { clearTimeout(p.t); p.rej(new Error(`${mode} master exited (${code})`)); }
        pending.clear();
        reject(new Error(`${mode} master exited (${code}) before ready`));
      });
      masters[mode] = m;
    });
  }

  // One autocannon run; request split is counted client-side from x-worker, connection split
  // server-side (each worker counts its 'connection' events).
  async function cannon(mode, { duration, close }) {
    const m = masters[mode];
    const byPid = {};
    const connByPid = {};
    await m.rpc('reset');
    const result = await autocannon({
      url: `http://127.0.0.1:${m.port}/`,
      connections: CONNECTIONS,
      pipelining: 1,
      duration,
      timeout: 5,
      headers: close ? { connection: 'close' } : {},
      setupClient(client) {
        if (close) {
          // autocannon writes the next request as soon as a response completes, even when the
          // server said Connection: close and is about to close the socket. That request is lost
          // (or draws a RST) and stays in autocannon's pipeline queue, so later latencies are
          // measured from stale start times and grow for the whole run. Skip that one write;
          // the reconnect after the server's FIN sends the next request on a fresh connection.
          let closing = false;
          const doRequest = client._doRequest;
          client._doRequest = function (...args) {
            if (closing) { closing = false; return undefined; }
            return doRequest.apply(this, args);
          };
          client.on('headers', (info) => { if (!info.shouldKeepAlive) closing = true; });
        }
        let fresh = true;
        const connect = client._connect;
        client._connect = function () { fresh = true; return connect.call(this); };
        client.on('headers', (info) => {
          const h = info.headers;
          for (let i = 0; i < h.length; i += 2) {
            if (h[i].length === 8 && h[i].toLowerCase() === 'x-worker') {
              byPid[h[i + 1]] = (byPid[h[i + 1]] ?? 0) + 1;
              if (fresh) { connByPid[h[i + 1]] = (connByPid[h[i + 1]] ?? 0) + 1; fresh = false; }
              break;
            }
          }
        });
      },
    });
    const stats = await m.rpc('stats');
    return {
      reqPerSec: result.requests.average,
      totalRequests: result.requests.total,
      latencyP50: result.latency.p50,
      latencyP99: result.latency.p99,
      latencyAvg: result.latency.average,
      errors: result.errors,
      timeouts: result.timeouts,
      non2xx: result.non2xx,
      clientRequestsByWorker: byPid,
      clientConnectionsByWorker: connByPid,
      server: stats,
      masterCpuPct: (stats.masterCpuMs / stats.wallMs) * 100,
      workerCpuPct: (stats.workers.reduce((a, w) => a + w.cpuMs, 0) / stats.wallMs) * 100,
    };
  }

  async function rolling(mode) {
    const m = masters[mode];
    const pool = new Pool(`http://127.0.0.1:${m.port}`, {
      connections: CONNECTIONS,
      pipelining: 1,
      headersTimeout: 5000,
      bodyTimeout: 5000,
      connectTimeout: 5000,
    });
    const samples = []; // [ms since start, pid] per successful response
    const errors = {};
    const errorLog = []; // first 50 failures: when (ms since start) and what
    let ok = 0;
    let non2xx = 0;
    let stop = false;
    const start = performance.now();
    const loop = async () => {
      while (!stop) {
        try {
          const { statusCode, headers, body } = await pool.request({ path: '/', method: 'GET' });
          await body.dump();
          if (statusCode >= 200 && statusCode < 300) {
            ok++;
            samples.push([performance.now() - start, Number(headers['x-worker'])]);
          } else {
            non2xx++;
            if (errorLog.length < 50) errorLog.push({ atMs: performance.now() - start, status: statusCode });
          }
        } catch (err) {
          const code = err?.code ?? err?.name ?? 'unknown';
          errors[code] = (errors[code] ?? 0) + 1;
          if (errorLog.length < 50) errorLog.push({ atMs: performance.now() - start, code, message: String(err?.message ?? err) });
        }
      }
    };
    const loops = Array.from({ length: CONNECTIONS }, loop);

    const restarts = [];
    const drainTimes = [];
    m.onWorkerExit = (msg) => { if (msg.final) drainTimes.push({ pid: msg.pid, drainMs: msg.final.drainMs, forced: msg.final.forced }); };
    try {
      await sleep(1500);
      for (let i = 0; i < RESTARTS; i++) {
        if (i > 0) await sleep(2000);
        const begin = performance.now() - start;
        const r = await m.rpc('restart');
        restarts.push({ ...r, begunAtMs: begin, drainSentAtMs: performance.now() - start });
      }
      const last = restarts.at(-1).drainSentAtMs;
      await sleep(Math.max(RESTART_LOAD_MS - (performance.now() - start), last + WINDOW_MS + 300 - (performance.now() - start), 0));
    } finally {
      stop = true;
      await Promise.race([Promise.all(loops), sleep(7000)]);
      await pool.destroy().catch(() => {});
      m.onWorkerExit = null;
    }
    const elapsedMs = performance.now() - start;
    const last = restarts.at(-1);
    const current = new Set(last.newPids);
    const windowByPid = {};
    let windowOld = 0;
    for (const [t, pid] of samples) {
      if (t < last.drainSentAtMs || t > last.drainSentAtMs + WINDOW_MS) continue;
      if (current.has(pid)) windowByPid[pid] = (windowByPid[pid] ?? 0) + 1;
      else windowOld++;
    }
    for (const pid of current) windowByPid[pid] ??= 0;
    const server = await m.rpc('stats'); // current workers count since they were spawned
    const failed = non2xx + Object.values(errors).reduce((a, b) => a + b, 0);
    return {
      elapsedMs, ok, non2xx, errors, errorLog, failed, restarts, drainTimes,
      reqPerSec: ok / (elapsedMs / 1000),
      windowAfterLastRestart: { ms: WINDOW_MS, byCurrentWorker: windowByPid, fromOldWorkers: windowOld },
      currentWorkersSinceSpawn: server.workers,
    };
  }

  const results = {
    benchmark: 'socket-sharing',
    startedAt: startedAt.toISOString(),
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    loadavgAtStart: os.loadavg(),
    partial,
    config: { modes: MODES, phases: PHASES, workers: WORKERS, connections: CONNECTIONS, durationS: DURATION, runs: RUNS, pipelining: 1, restarts: RESTARTS, restartLoadMs: RESTART_LOAD_MS, windowMs: WINDOW_MS },
    modes: {},
  };

  let exitCode = 0;
  try {
    for (const mode of MODES) {
      const m = await startMaster(mode);
      const r = await m.rpc('start');
      m.port = r.port;
      results.modes[mode] = { port: r.port, initialPids: r.pids, keepAlive: [], close: [], rolling: null };
      log(`${mode}: master ${m.child.pid}, workers ${r.pids.join(', ')}, port ${r.port}`);
    }
    for (const mode of PHASES.includes('keepAlive') || PHASES.includes('close') ? MODES : []) {
      log(`${mode}: warm-up`);
      await cannon(mode, { duration: 2, close: false });
      await cannon(mode, { duration: 1, close: true });
    }
    // Interleave modes (rotating the order each round) so that noise on a shared machine
    // spreads over all modes instead of landing on one.
    for (const kind of ['keepAlive', 'close'].filter((k) => PHASES.includes(k))) {
      for (let run = 0; run < RUNS; run++) {
        const order = MODES.map((_, i) => MODES[(i + run) % MODES.length]);
        for (const mode of order) {
          const r = await cannon(mode, { duration: DURATION, close: kind === 'close' });
          r.run = run;
          results.modes[mode][kind].push(r);
          log(`${kind} run ${run + 1}/${RUNS} ${mode}: ${r.reqPerSec.toFixed(0)} req/s, p99 ${r.latencyP99} ms, errors ${r.errors}, split ${fmtSplit(Object.values(r.clientRequestsByWorker))}, master cpu ${r.masterCpuPct.toFixed(0)}%`);
          await sleep(300);
        }
      }
    }
    for (const mode of PHASES.includes('rolling') ? MODES : []) {
      const r = await rolling(mode);
      results.modes[mode].rolling = r;
      log(`rolling ${mode}: ok ${r.ok}, failed ${r.failed} ${JSON.stringify(r.errors)}, window split ${fmtSplit(Object.values(r.windowAfterLastRestart.byCurrentWorker))}`);
    }
  } catch (err) {
    exitCode = 1;
    results.error = String(err?.stack ?? err);
    console.error(err);
  } finally {
    const leftovers = await cleanup();
    clearTimeout(watchdog);
    results.workerErrors = workerErrors;
    results.workerExits = exits.map(({ mode, pid, code, signal, state, final }) => ({ mode, pid, code, signal, state, final }));
    results.leftoverPids = leftovers;
    results.finishedAt = new Date().toISOString();
    results.totalSeconds = (performance.now() - t0) / 1000;
    results.summary = summarize(results);
    const dir = path.join(path.dirname(SCRIPT), 'results');
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, partial ? 'socket-sharing.partial.tmp' : 'socket-sharing.json');
    fs.writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
    log(`wrote ${path.relative(process.cwd(), file)}`);
    if (results.modes && !results.error) console.log(renderTable(results));
    log(`done in ${results.totalSeconds.toFixed(0)} s; leftover pids: ${leftovers.length ? leftovers.join(', ') : 'none'}`);
    if (leftovers.length) exitCode = 1;
  }
  process.exit(exitCode);
}

// ─────────────────────────────────────────────────────────────── report ──

function summarize(results) {
  const out = {};
  for (const [mode, r] of Object.entries(results.modes)) {
    const ka = r.keepAlive ?? [];
    const cl = r.close ?? [];
    out[mode] = {
      keepAlive: ka.length ? {
        reqPerSecMedian: median(ka.map((x) => x.reqPerSec)),
        reqPerSecRuns: ka.map((x) => Math.round(x.reqPerSec)),
        p50Median: median(ka.map((x) => x.latencyP50)),
        p99Median: median(ka.map((x) => x.latencyP99)),
        errors: sum(ka.map((x) => x.errors + x.timeouts + x.non2xx)),
        busiestRequestShareRuns: ka.map((x) => busiest(Object.values(x.clientRequestsByWorker))),
        busiestConnectionShareRuns: ka.map((x) => busiest(x.server.workers.map((w) => w.conns))),
        connectionSplitRuns: ka.map((x) => x.server.workers.map((w) => w.conns)),
        masterCpuPctMedian: median(ka.map((x) => x.masterCpuPct)),
        workerCpuPctMedian: median(ka.map((x) => x.workerCpuPct)),
      } : null,
      close: cl.length ? {
        reqPerSecMedian: median(cl.map((x) => x.reqPerSec)),
        reqPerSecRuns: cl.map((x) => Math.round(x.reqPerSec)),
        p50Median: median(cl.map((x) => x.latencyP50)),
        p99Median: median(cl.map((x) => x.latencyP99)),
        errors: sum(cl.map((x) => x.errors + x.timeouts + x.non2xx)),
        busiestRequestShareRuns: cl.map((x) => busiest(Object.values(x.clientRequestsByWorker))),
        masterCpuPctMedian: median(cl.map((x) => x.masterCpuPct)),
        workerCpuPctMedian: median(cl.map((x) => x.workerCpuPct)),
      } : null,
      rolling: r.rolling ? {
        ok: r.rolling.ok,
        failed: r.rolling.failed,
        errors: r.rolling.errors,
        windowSplit: Object.values(r.rolling.windowAfterLastRestart.byCurrentWorker),
        windowBusiestShare: busiest(Object.values(r.rolling.windowAfterLastRestart.byCurrentWorker)),
        windowFromOldWorkers: r.rolling.windowAfterLastRestart.fromOldWorkers,
        connectionsAfterLastRestart: r.rolling.currentWorkersSinceSpawn.map((w) => w.conns),
        drainMsMax: Math.max(0, ...r.rolling.drainTimes.map((d) => d.drainMs)),
        forcedExits: r.rolling.drainTimes.filter((d) => d.forced).length,
      } : null,
    };
  }
  return out;
}

function renderTable(results) {
  const s = results.summary;
  const pct = (x) => (x == null ? 'n/a' : `${Math.round(x * 100)}%`);
  const lines = [];
  lines.push(`Node ${results.node}, ${results.cpus} CPUs, ${WORKERS} workers, ${results.config.connections} connections, ${results.config.durationS} s per run, median of ${results.config.runs} runs`);
  lines.push('');
  lines.push('| mode | keep-alive req/s (median) | p50 / p99 ms | errors | busiest worker: requests / connections (per run) | master CPU | Connection: close req/s (median) | p50 / p99 ms | errors | busiest worker: requests (per run) | master CPU |');
  lines.push('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const mode of Object.keys(s)) {
    const k = s[mode]?.keepAlive;
    const c = s[mode]?.close;
    if (!k || !c) continue;
    lines.push(`| ${mode} | ${Math.round(k.reqPerSecMedian)} (${k.reqPerSecRuns.join(', ')}) | ${k.p50Median} / ${k.p99Median} | ${k.errors} | ${k.busiestRequestShareRuns.map(pct).join(', ')} / ${k.busiestConnectionShareRuns.map(pct).join(', ')} | ${Math.round(k.masterCpuPctMedian)}% | ${Math.round(c.reqPerSecMedian)} (${c.reqPerSecRuns.join(', ')}) | ${c.p50Median} / ${c.p99Median} | ${c.errors} | ${c.busiestRequestShareRuns.map(pct).join(', ')} | ${Math.round(c.masterCpuPctMedian)}% |`);
  }
  lines.push('');
  lines.push(`| mode | rolling restarts: ok | failed | errors by code | requests per current worker, ${results.config.windowMs / 1000} s after last restart | busiest share | connections per current worker since last restart | slowest drain ms |`);
  lines.push('|---|---|---|---|---|---|---|---|');
  for (const mode of Object.keys(s)) {
    const r = s[mode]?.rolling;
    if (!r) continue;
    lines.push(`| ${mode} | ${r.ok} | ${r.failed} | ${Object.keys(r.errors).length ? JSON.stringify(r.errors) : '-'} | ${r.windowSplit.join(' / ')}${r.windowFromOldWorkers ? ` (+${r.windowFromOldWorkers} from old)` : ''} | ${pct(r.windowBusiestShare)} | ${r.connectionsAfterLastRestart.join(' / ')} | ${Math.round(r.drainMsMax)} |`);
  }
  return lines.join('\n');
}

// ────────────────────────────────────────────────────────────── helpers ──

function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }
function sum(a) { return a.reduce((x, y) => x + y, 0); }
function median(a) {
  if (!a.length) return null;
  const s = [...a].sort((x, y) => x - y);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}
function busiest(counts) {
  const total = sum(counts);
  return total ? Math.max(...counts) / total : null;
}
function fmtSplit(counts) {
  const total = sum(counts);
  return total ? counts.map((c) => `${Math.round((c / total) * 100)}%`).join('/') : 'n/a';
}
function alive(pid) {
  try { process.kill(pid, 0); return true; } catch (err) { return err.code === 'EPERM'; }
}
