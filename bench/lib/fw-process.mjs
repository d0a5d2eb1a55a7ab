// fw as a contender: a private copy of bench/fixtures/hello-app (or another fixture folder, such as
// hello-listen), built with `fw build` and run with `fw start --workers N` through the real CLI, in
// its own process group.

import { execFile } from 'node:child_process';
import { cp } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { childrenOf, fixturesDir, fwBin, makeTempDir, pidAlive, repoRoot, startGroup, stopGroup, until } from './procs.mjs';

const SERVING_LINE = /serving http:\/\/127\.0\.0\.1:(\d+) with (\d+) workers? \(master pid (\d+)\)/;
const READY_LINE = /generation (\d+) ready in (\d+) ms \(build (\S+), pids ([\d, ]+)\)/;
const ROLLOUT_LINE = /generation (\d+): starting (\d+) workers?/;
/** Quiet workers: no request logs (the hello app has none anyway). */
const quiet = { LOG_LEVEL: 'warn' };

/**
 * Runs an fw command to completion, bounded; rejects with its output if it fails. `bin`: another
 * fw's bin/fw.js (bench/release-build.mjs runs an older fw from a git worktree).
 */
export function fwCommand(args, { timeoutMs = 60_000, bin = fwBin } = {}) {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [bin, ...args], { cwd: repoRoot, env: { ...process.env, ...quiet, NO_COLOR: '1' }, timeout: timeoutMs, killSignal: 'SIGKILL' }, (error, stdout, stderr) => {
      if (error) reject(new Error(`fw ${args.join(' ')} failed (${error.code ?? error.signal}): ${stderr || stdout}`));
      else resolve({ stdout, stderr });
    });
  });
}

/**
 * A private copy of a hello app under test/.tmp/, so `fastify` resolves from the repo's
 * node_modules, with bench/fixtures/hello.mjs copied to its src/hello.mjs, which its entry imports
 * (inside the app: fw refuses to build a module from a folder that holds the app); built once with
 * `fw build`. `fixture`: the folder of bench/fixtures/ to copy: hello-app (src/app.ts
 * default-exports the factory) or hello-listen (src/server.ts calls listen itself).
 */
export async function prepareFwApp(tag = 'fw', { fixture = 'hello-app' } = {}) {
  const root = await makeTempDir(tag);
  const dir = path.join(root, fixture);
  await cp(path.join(fixturesDir, fixture), dir, { recursive: true, filter: (source) => !/[/\\](node_modules|\.fw)$/.test(source) });
  await cp(path.join(fixturesDir, 'hello.mjs'), path.join(dir, 'src', 'hello.mjs'));
  const startedAt = performance.now();
  await fwCommand(['build', dir]);
  return { root, dir, fixture, buildMs: Math.round(performance.now() - startedAt) };
}

/** `fw start DIR --port PORT --workers N` (`bin`: which fw); resolves once it prints its "serving" line. */
export async function startFw(app, { port = 0, workers = 2, timeoutMs = 60_000, waitForServing = true, bin = fwBin, name = 'fw start' } = {}) {
  const proc = startGroup(name, process.execPath, [bin, 'start', app.dir, '--port', String(port), '--workers', String(workers)], { env: quiet });
  const fw = {
    kind: 'fw',
    proc,
    app,
    origin: null,
    masterPid: proc.pid,
    /** Resolves once the master prints its "serving" line. */
    async serving(ms = timeoutMs) {
      const { match, line } = await proc.waitForLine(SERVING_LINE, ms);
      fw.origin = `http://127.0.0.1:${match[1]}`;
      fw.masterPid = Number(match[3]);
      fw.servingAt = line.at;
      return fw;
    },
    /** For a fresh start: when the master began its first rollout and when that generation was ready. */
    async firstRollout(ms = timeoutMs) {
      const started = await proc.waitForLine(ROLLOUT_LINE, ms);
      const ready = await proc.waitForLine(READY_LINE, ms);
      return { startingAt: started.line.at, readyAt: ready.line.at, rolloutMs: Number(ready.match[2]) };
    },
    workerPids: () => childrenOf(fw.masterPid).filter(pidAlive),
    /** `fw status DIR --json`, through the CLI (a whole Node process: slow under load). */
    status: async () => JSON.parse((await fwCommand(['status', app.dir, '--json'], { timeoutMs: 20_000, bin })).stdout),
    /**
     * The same status object straight from the master's control socket (what `fw status` does
     * inside: one JSON line each way over <app>/.fw/control.sock), without starting a Node process
     * while the load runs. Falls back to the CLI if that fails.
     */
    quickStatus: () => controlStatus(path.join(app.dir, '.fw', 'control.sock')).catch(() => fw.status()),
    /**
     * SIGHUP to the master. Resolves with when it was sent and when the master logged the new
     * generation ready (its pids and fw's own rollout time), or rejects after `timeoutMs`.
     */
    async reload(ms = 60_000) {
      const from = proc.lines.length;
      const sentAt = performance.now();
      process.kill(fw.masterPid, 'SIGHUP');
      const { match, line } = await proc.waitForLine(READY_LINE, ms, from);
      return {
        sentAt,
        readyLineAt: line.at,
        generation: Number(match[1]),
        rolloutMs: Number(match[2]),
        pids: match[4].split(',').map((pid) => Number(pid.trim())),
      };
    },
    /** SIGTERM to the master (what `fw stop` asks for: a graceful stop), bounded; then the group goes for sure. */
    stop: () => stopGroup(proc, { signal: 'SIGTERM', graceMs: 10_000 }),
  };
  if (waitForServing) await fw.serving();
  return fw;
}

function controlStatus(socketPath, timeoutMs = 10_000) {
  return new Promise((resolve, reject) => {
    const connection = net.createConnection(socketPath);
    let buffer = '';
    const timer = setTimeout(() => {
      connection.destroy();
      reject(new Error('no answer on the control socket'));
    }, timeoutMs);
    connection.setEncoding('utf8');
    connection.on('connect', () => connection.write(`${JSON.stringify({ command: 'status' })}\n`));
    connection.on('data', (chunk) => {
      buffer += chunk;
    });
    connection.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    connection.on('end', () => {
      clearTimeout(timer);
      try {
        const response = JSON.parse(buffer);
        if (response.command === 'status' && response.ok) resolve(response.status);
        else reject(new Error(`unexpected answer: ${buffer.slice(0, 200)}`));
      } catch (error) {
        reject(error);
      }
    });
  });
}

/** Resolves once none of `pids` is alive (true), or false after `timeoutMs`. */
export async function whenGone(pids, timeoutMs) {
  return Boolean(await until(() => pids.every((pid) => !pidAlive(pid)), timeoutMs, 10));
}
