// The baselines: plain Fastify in one process (bench/fixtures/single.mjs) and a hand-written
// node:cluster (bench/fixtures/cluster.mjs), each in its own process group.

import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { childrenOf, fixturesDir, pidAlive, startGroup, stopGroup } from './procs.mjs';

const SINGLE_LINE = /listening http:\/\/127\.0\.0\.1:(\d+) \(pid (\d+)\)/;
const CLUSTER_LINE = /listening http:\/\/127\.0\.0\.1:(\d+) with (\d+) workers \(primary pid (\d+)\)/;
const CLUSTER_RELOADED = /reloaded in (\d+) ms \(pids ([\d, ]+)\)/;

/** `node bench/fixtures/single.mjs PORT`; resolves once it listens. */
export async function startSingle({ port = 0, timeoutMs = 30_000, waitForListening = true } = {}) {
  const proc = startGroup('single', process.execPath, [path.join(fixturesDir, 'single.mjs'), String(port)]);
  const single = {
    kind: 'single',
    proc,
    origin: null,
    masterPid: null,
    async listening(ms = timeoutMs) {
      const { match, line } = await proc.waitForLine(SINGLE_LINE, ms);
      single.origin = `http://127.0.0.1:${match[1]}`;
      single.listeningAt = line.at;
      return single;
    },
    workerPids: () => (pidAlive(proc.pid) ? [proc.pid] : []),
    stop: () => stopGroup(proc, { signal: 'SIGTERM', graceMs: 3_000 }),
  };
  if (waitForListening) await single.listening();
  return single;
}

/** `node bench/fixtures/cluster.mjs PORT` with WORKERS=n; resolves once every worker listens. */
export async function startCluster({ port = 0, workers = 2, timeoutMs = 30_000, waitForListening = true } = {}) {
  const proc = startGroup('cluster', process.execPath, [path.join(fixturesDir, 'cluster.mjs'), String(port)], { env: { WORKERS: String(workers) } });
  const cluster = {
    kind: 'cluster',
    proc,
    origin: null,
    masterPid: proc.pid,
    async listening(ms = timeoutMs) {
      const { match, line } = await proc.waitForLine(CLUSTER_LINE, ms);
      cluster.origin = `http://127.0.0.1:${match[1]}`;
      cluster.listeningAt = line.at;
      return cluster;
    },
    workerPids: () => childrenOf(proc.pid).filter(pidAlive),
    /** SIGHUP: the hand-written rolling restart. Resolves once the primary says it is done. */
    async reload(ms = 60_000) {
      const from = proc.lines.length;
      const sentAt = performance.now();
      process.kill(proc.pid, 'SIGHUP');
      const { match, line } = await proc.waitForLine(CLUSTER_RELOADED, ms, from);
      return { sentAt, readyLineAt: line.at, rolloutMs: Number(match[1]), pids: match[2].split(',').map((pid) => Number(pid.trim())) };
    },
    stop: () => stopGroup(proc, { signal: 'SIGTERM', graceMs: 3_000 }),
  };
  if (waitForListening) await cluster.listening();
  return cluster;
}
