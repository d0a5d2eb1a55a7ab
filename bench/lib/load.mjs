// The load generators.
//
// `cannon()`: autocannon (keep-alive, pipelining 1) for throughput. Counts every response by the
// worker that sent it (`x-worker` header), every connection by the worker that served its first
// response, every failed request by kind, and keeps every latency (µs precision; autocannon's own
// histogram is in whole ms) and, if asked, when each response came from which worker.
//
// `startRequestLoad()`: undici, one Client (one kept-alive connection, pipelining 1) per
// connection, each sending its next GET as soon as the last answer arrived (optionally after a
// pause). Never retries: every request is logged with when it was sent, when it ended, its worker,
// and ok / HTTP status / error code. For reloads: failures by kind, latency over time, distribution.

import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { Client } from 'undici';
import { addCount, quantile, round } from './stats.mjs';

// ─────────────────────────────────────────────────────────── autocannon ──

/**
 * One autocannon run against `url` for `durationS`, or until `stopSignal` (a promise) resolves.
 * With `timeline`, the arrival time (performance.now()) and worker of every response are kept.
 */
export async function cannon(url, { connections = 32, durationS = 5, timeoutS = 10, timeline = false, stopSignal } = {}) {
  const byWorker = {};
  const connectionsByWorker = {};
  const errorsByKind = {};
  const statuses = {};
  const latencies = [];
  const times = timeline ? [] : null;
  const pids = timeline ? [] : null;
  const startedAt = performance.now();
  const clientCpuBefore = process.cpuUsage();

  const instance = autocannon({
    url,
    connections,
    pipelining: 1,
    duration: durationS,
    timeout: timeoutS,
    setupClient(client) {
      // autocannon writes the next request as soon as a response is complete, even when the server
      // said `Connection: close` and is about to close the socket (a draining worker does that).
      // That request would be lost or reset: autocannon's artefact, not the server's. Skip that one
      // write; the reconnect after the server's FIN sends the next request on a fresh connection.
      let closing = false;
      const doRequest = client._doRequest;
      client._doRequest = function (...args) {
        if (closing) {
          closing = false;
          return undefined;
        }
        return doRequest.apply(this, args);
      };
      let fresh = true;
      const connect = client._connect;
      client._connect = function (...args) {
        fresh = true;
        return connect.apply(this, args);
      };
      client.on('headers', (info) => {
        if (!info.shouldKeepAlive) closing = true;
        const h = info.headers;
        let pid = '?';
        for (let i = 0; i < h.length; i += 2) {
          if (h[i].length === 8 && h[i].toLowerCase() === 'x-worker') {
            pid = h[i + 1];
            break;
          }
        }
        byWorker[pid] = (byWorker[pid] ?? 0) + 1;
        if (fresh) {
          connectionsByWorker[pid] = (connectionsByWorker[pid] ?? 0) + 1;
          fresh = false;
        }
        if (times) {
          times.push(performance.now());
          pids.push(pid);
        }
      });
    },
  });
  instance.on('response', (_client, statusCode, _bytes, responseTime) => {
    if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
    else addCount(statuses, statusCode);
  });
  instance.on('reqError', (error) => addCount(errorsByKind, errorKind(error)));
  const result = await new Promise((resolve, reject) => {
    instance.once('done', resolve);
    instance.once('error', reject);
    stopSignal?.then(() => instance.stop());
  });
  const elapsedS = (performance.now() - startedAt) / 1000;
  const clientCpu = process.cpuUsage(clientCpuBefore);
  const failed = result.errors + result.non2xx;
  return {
    url,
    connections,
    durationS: round(elapsedS, 2),
    requests: result.requests.total,
    ok: latencies.length,
    reqPerSec: round(latencies.length / result.duration, 0),
    // The load generator's own CPU (this process), in cores: near 1, the client is the bottleneck.
    clientCores: round((clientCpu.user + clientCpu.system) / 1e6 / elapsedS, 2),
    latencyMs: latencySummary(latencies),
    failed,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    errorsByKind,
    statuses,
    byWorker,
    connectionsByWorker,
    ...(timeline ? { timeline: { startedAt, times, pids } } : {}),
  };
}

function versionOf(text) {
  try {
    return JSON.parse(text).version ?? '?';
  } catch {
    return '?';
  }
}

/** What kind of failure an error is, e.g. `ECONNRESET` or `UND_ERR_SOCKET (other side closed)`. */
export function errorKind(error) {
  const code = error?.code ?? error?.name ?? 'Error';
  if (code === 'UND_ERR_SOCKET') return `${code} (${error.message})`;
  if (!error?.code && error?.message) return error.message;
  return code;
}

export function latencySummary(values) {
  return {
    p50: round(quantile(values, 0.5), 2),
    p90: round(quantile(values, 0.9), 2),
    p99: round(quantile(values, 0.99), 2),
    max: values.length ? round(values.reduce((a, b) => Math.max(a, b), -Infinity), 2) : null,
  };
}

// ─────────────────────────────────────────────────────── undici per request ──

/**
 * A never-retrying keep-alive load. Each entry of `log`: `{ sent, at, ok, status?, error?, pid,
 * client, version? }` (times are performance.now(); `version`, from the JSON body, with
 * `readVersion`). `waitFor(test, timeoutMs, from)` resolves with the first entry from index `from`
 * (default: from now on) that passes `test`, or null.
 */
export function startRequestLoad(origin, { connections = 32, path = '/', pauseMs = 0, readVersion = false } = {}) {
  const log = [];
  const connects = [];
  const waiters = new Set();
  let running = true;
  const clients = Array.from({ length: connections }, (_, index) => {
    const client = new Client(origin, {
      pipelining: 1,
      connect: { timeout: 5_000 },
      headersTimeout: 10_000,
      bodyTimeout: 10_000,
    });
    client.on('connect', () => connects.push({ at: performance.now(), client: index }));
    return client;
  });

  const loop = async (client, index) => {
    while (running) {
      const entry = { sent: performance.now(), at: 0, ok: false, pid: null, client: index };
      try {
        const response = await client.request({ method: 'GET', path });
        const text = readVersion ? await response.body.text() : await response.body.dump();
        entry.at = performance.now();
        entry.status = response.statusCode;
        entry.ok = response.statusCode >= 200 && response.statusCode < 300;
        entry.pid = Number(response.headers['x-worker']) || null;
        if (readVersion && entry.ok) entry.version = versionOf(text);
      } catch (error) {
        entry.at = performance.now();
        entry.error = errorKind(error);
      }
      log.push(entry);
      for (const waiter of waiters) waiter(entry);
      if (pauseMs) await sleep(pauseMs);
    }
  };
  const loops = clients.map(loop);

  return {
    log,
    connects,
    waitFor(test, timeoutMs, from = log.length) {
      const seen = log.slice(from).find(test);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          resolve(null);
        }, timeoutMs);
        const waiter = (entry) => {
          if (!test(entry)) return;
          clearTimeout(timer);
          waiters.delete(waiter);
          resolve(entry);
        };
        waiters.add(waiter);
      });
    },
    async stop() {
      running = false;
      await Promise.race([Promise.all(loops), sleep(12_000)]);
      await Promise.all(clients.map((client) => client.destroy().catch(() => undefined)));
      return log;
    },
  };
}

/**
 * Figures for the requests of `log` sent in [from, to): counts, failures by kind, latency, the
 * split of answers over workers, and of connections (the worker that answered a client's last
 * request in the window holds that client's connection).
 */
export function windowSummary(log, from, to) {
  const entries = log.filter((e) => e.sent >= from && e.sent < to);
  const failures = {};
  const byWorker = {};
  const latencies = [];
  const lastWorkerOfClient = new Map();
  let ok = 0;
  for (const e of entries) {
    if (e.ok) {
      ok++;
      latencies.push(e.at - e.sent);
      addCount(byWorker, e.pid ?? '?');
      lastWorkerOfClient.set(e.client, e.pid ?? '?');
    } else {
      addCount(failures, e.error ?? `HTTP ${e.status}`);
    }
  }
  const connectionsByWorker = {};
  for (const pid of lastWorkerOfClient.values()) addCount(connectionsByWorker, pid);
  const seconds = (to - from) / 1000;
  return {
    ms: round(to - from, 0),
    requests: entries.length,
    ok,
    failed: entries.length - ok,
    failures,
    reqPerSec: seconds > 0 ? round(ok / seconds, 0) : null,
    latencyMs: latencySummary(latencies),
    byWorker,
    connectionsByWorker,
  };
}

/**
 * A single poller for "start to first response": GET `url` on a fresh connection every
 * `intervalMs` until a 2xx answer (resolves with its arrival time) or `timeoutMs` (null).
 */
export async function firstResponse(origin, { timeoutMs = 30_000, intervalMs = 5, path = '/' } = {}) {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const client = new Client(origin, { pipelining: 1, connect: { timeout: 2_000 }, headersTimeout: 5_000, bodyTimeout: 5_000 });
    try {
      const response = await client.request({ method: 'GET', path });
      await response.body.dump();
      if (response.statusCode >= 200 && response.statusCode < 300) {
        return { at: performance.now(), pid: Number(response.headers['x-worker']) || null };
      }
    } catch {
      // not listening yet
    } finally {
      client.destroy().catch(() => undefined);
    }
    await sleep(intervalMs);
  }
  return null;
}
