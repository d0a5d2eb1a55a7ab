// Processes, ports, temp folders and cleanup for the benches.
//
// Every process a bench starts leads its own process group (spawned detached) and is registered
// here; `cleanup()` kills every group still alive (SIGKILL, by group: the master's workers go too)
// and removes every temp folder. A synchronous last resort runs on process exit, and SIGINT/SIGTERM
// clean up before exiting. Every wait is bounded.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
export const benchDir = path.join(repoRoot, 'bench');
export const fixturesDir = path.join(benchDir, 'fixtures');
export const resultsDir = path.join(benchDir, 'results');
/** Inside the repo, so copies resolve `fastify` from the workspace's node_modules. */
export const scratchRoot = path.join(repoRoot, 'test', '.tmp');
export const fwBin = path.join(repoRoot, 'packages', 'cli', 'bin', 'fw.js');

export { sleep };

/** pgid → process record, for every group started and not yet known to be gone. */
const groups = new Map();
const tempDirs = new Set();

export function groupAlive(pgid) {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

export function pidAlive(pid) {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return error.code === 'EPERM';
  }
  // A zombie (exited, not yet reaped by its parent) answers kill(0) but is gone.
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

function signalGroup(pgid, signal) {
  try {
    process.kill(-pgid, signal);
  } catch {
    // already gone
  }
}

/**
 * Starts `command` as the leader of a new process group. Output is split into lines, each stamped
 * with performance.now() on arrival; `proc.waitForLine` waits (bounded) for one.
 */
/**
 * `terminateFirst`: cleanup() sends SIGTERM to the leader and waits (bounded) before the group's
 * SIGKILL: for a bench run as a child (bench/dev-loop.mjs), which then stops what it started.
 */
export function startGroup(name, command, args, { cwd = repoRoot, env = {}, keepStdinOpen = false, terminateFirst = false } = {}) {
  const startedAt = performance.now();
  const child = spawn(command, args, {
    cwd,
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', ...env },
    detached: true,
    stdio: [keepStdinOpen ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`${name}: could not spawn ${command}`);
  const proc = {
    name,
    child,
    pid: child.pid,
    startedAt,
    terminateFirst,
    lines: [],
    exited: false,
    exitInfo: undefined,
    waiters: new Set(),
    waitForLine: (pattern, timeoutMs, from = 0) => waitForLine(proc, pattern, timeoutMs, from),
    tail: (count = 30) => proc.lines.slice(-count).map((line) => `  ${name}| ${line.text}`).join('\n'),
  };
  groups.set(proc.pid, proc);
  const notify = () => {
    for (const check of proc.waiters) check();
  };
  for (const stream of ['stdout', 'stderr']) {
    let partial = '';
    child[stream].setEncoding('utf8');
    child[stream].on('data', (chunk) => {
      const at = performance.now();
      const parts = (partial + chunk).split('\n');
      partial = parts.pop();
      for (const text of parts) proc.lines.push({ at, stream, text: text.replace(/\r$/, '') });
      // Bounded memory for chatty processes: keep the last 20,000 lines.
      if (proc.lines.length > 25_000) proc.lines.splice(0, 5_000);
      notify();
    });
  }
  child.on('error', (error) => {
    proc.exited = true;
    proc.exitInfo = String(error);
    notify();
  });
  child.on('exit', (code, signal) => {
    proc.exitedAt = performance.now();
    proc.exited = true;
    proc.exitInfo = signal ? `signal ${signal}` : `code ${code}`;
    notify();
  });
  return proc;
}

/** The first line from index `from` on matching `pattern`; rejects on timeout or if the process exits first. */
export function waitForLine(proc, pattern, timeoutMs, from = 0) {
  return new Promise((resolve, reject) => {
    let next = from;
    const check = () => {
      for (; next < proc.lines.length; next++) {
        const match = proc.lines[next].text.match(pattern);
        if (match) return finish(() => resolve({ match, line: proc.lines[next], index: next }));
      }
      if (proc.exited) finish(() => reject(new Error(`${proc.name} exited (${proc.exitInfo}) before printing ${pattern}:\n${proc.tail()}`)));
    };
    const timer = setTimeout(() => finish(() => reject(new Error(`${proc.name}: no ${pattern} within ${timeoutMs} ms:\n${proc.tail()}`))), timeoutMs);
    const finish = (settle) => {
      clearTimeout(timer);
      proc.waiters.delete(check);
      settle();
    };
    proc.waiters.add(check);
    check();
  });
}

/** Resolves true once `proc` (from startGroup) has exited, or false after `timeoutMs`. */
export function waitForExit(proc, timeoutMs) {
  return new Promise((resolve) => {
    const check = () => {
      if (!proc.exited) return;
      clearTimeout(timer);
      proc.waiters.delete(check);
      resolve(true);
    };
    const timer = setTimeout(() => {
      proc.waiters.delete(check);
      resolve(false);
    }, timeoutMs);
    proc.waiters.add(check);
    check();
  });
}

/** Polls `check` every `intervalMs` until it returns a truthy value (returned) or `timeoutMs` passes (null). */
export async function until(check, timeoutMs, intervalMs = 20) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (performance.now() >= deadline) return null;
    await sleep(intervalMs);
  }
}

/**
 * Stops one group: `signal` to the leader only (a master then stops its own workers), up to
 * `graceMs` for the whole group to go, then SIGKILL to the group and up to 5 s more.
 */
export async function stopGroup(proc, { signal = 'SIGTERM', graceMs = 5_000 } = {}) {
  if (groupAlive(proc.pid) && signal) {
    try {
      process.kill(proc.pid, signal);
    } catch {
      // the leader is gone; its group may not be
    }
    await until(() => !groupAlive(proc.pid), graceMs);
  }
  if (groupAlive(proc.pid)) {
    signalGroup(proc.pid, 'SIGKILL');
    await until(() => !groupAlive(proc.pid), 5_000);
  }
  if (groupAlive(proc.pid)) throw new Error(`${proc.name}: process group ${proc.pid} still alive after SIGKILL`);
  groups.delete(proc.pid);
}

/** A fresh folder under test/.tmp/ (removed by cleanup()). */
export async function makeTempDir(tag) {
  const dir = path.join(scratchRoot, `bench-${tag}-${randomBytes(3).toString('hex')}`);
  await mkdir(dir, { recursive: true });
  tempDirs.add(dir);
  return dir;
}

export async function removeTempDir(dir) {
  await rm(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

/** Kills every group still registered, waits (bounded) until they are gone, removes temp folders (but `keep`). */
export async function cleanup({ keep = [] } = {}) {
  const pgids = [...groups.keys()];
  const gentle = [...groups.values()].filter((proc) => proc.terminateFirst && groupAlive(proc.pid));
  for (const proc of gentle) {
    try {
      process.kill(proc.pid, 'SIGTERM');
    } catch {
      // gone
    }
  }
  if (gentle.length) await until(() => !gentle.some((proc) => groupAlive(proc.pid)), 10_000);
  for (const pgid of pgids) signalGroup(pgid, 'SIGKILL');
  await until(() => !pgids.some(groupAlive), 5_000);
  const left = pgids.filter(groupAlive);
  for (const pgid of pgids) if (!left.includes(pgid)) groups.delete(pgid);
  for (const dir of [...tempDirs]) if (!keep.includes(dir)) await removeTempDir(dir).catch(() => undefined);
  return left;
}

let handlersInstalled = false;
let interrupted = false;
/** True once SIGINT/SIGTERM/SIGHUP arrived: a run being torn down writes no results. */
export const isInterrupted = () => interrupted;
/** Last resorts: kill every group on exit (synchronously), and clean up on SIGINT/SIGTERM/SIGHUP. */
export function installCleanupHandlers(name) {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', () => {
    for (const pgid of groups.keys()) signalGroup(pgid, 'SIGKILL');
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => {
      interrupted = true;
      process.stderr.write(`${name}: ${signal}, cleaning up\n`);
      cleanup().finally(() => process.exit(130));
    });
  }
}

/** Bounds a whole bench: after `ms`, clean up and exit 1, whatever hangs. */
export function watchdog(name, ms) {
  const timer = setTimeout(() => {
    process.stderr.write(`${name}: still running after ${Math.round(ms / 1000)} s; cleaning up\n`);
    cleanup().finally(() => process.exit(1));
  }, ms);
  timer.unref();
  return () => clearTimeout(timer);
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Resident memory of a process in bytes (Linux /proc), or null if it is gone. */
export function rssOf(pid) {
  try {
    const match = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+)\s+kB/m);
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/**
 * CPU time (user + system) a process has used so far, in ms (Linux /proc/<pid>/stat, clock ticks
 * of 10 ms), or null if it is gone.
 */
export function cpuTimeMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces; the fields after its closing parenthesis are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return null;
  }
}

/** The direct children of a process (Linux /proc). */
export function childrenOf(pid) {
  const children = [];
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
      if (text) children.push(...text.split(/\s+/).map(Number));
    }
  } catch {
    // gone
  }
  return [...new Set(children)];
}

export function log(name, text) {
  process.stderr.write(`[${name}] ${text}\n`);
}
