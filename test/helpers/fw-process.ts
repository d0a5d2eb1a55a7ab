import { readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa, type ResultPromise } from 'execa';
import { repoRoot } from './app-fixture.js';
import { npmEnv } from './packed-fw.js';

export const fwBin = path.join(repoRoot, 'packages', 'cli', 'bin', 'fw.js');

/** Quiet apps under load: request logs would flood the pipes. */
const quiet = { LOG_LEVEL: 'warn' };

/** Runs an fw command to completion (bounded) and returns its exit code and output. */
export async function fw(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}) {
  const result = await execa(process.execPath, [fwBin, ...args], {
    cwd: options.cwd ?? repoRoot,
    env: { ...quiet, ...options.env },
    reject: false,
    timeout: options.timeoutMs ?? 60_000,
    all: true,
  });
  return { exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr, all: result.all ?? '' };
}

/** A running `fw start` or `fw dev`, in its own process group. */
export interface RunningMaster {
  pid: number;
  port: number;
  url: string;
  process: ResultPromise;
  /** Everything the master and its workers printed so far. */
  output(): string;
  /** Resolves with the first match of `pattern` in the output from `from` on, or rejects after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs?: number, from?: number): Promise<RegExpMatchArray>;
  /** Sends a signal to the master. */
  signal(signal: NodeJS.Signals): void;
  /** Resolves with the master's exit code, or rejects after `timeoutMs`. */
  exited(timeoutMs?: number): Promise<number | undefined>;
  /** Ends the master's whole process group, whatever state it is in. */
  kill(): Promise<void>;
}

/**
 * Starts `fw start` as a real process in its own process group and waits for its "serving" line.
 * Port 0 by default: the master binds a free port and prints it.
 */
export function startMaster(appDir: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<RunningMaster> {
  return startFw(["start", appDir, "--port", "0", ...args], /serving .*?http:\/\/[^\s,]+:(\d+)[\s,]/, env);
}

/** Starts `fw dev` on a free port and waits for its "fw dev <url>" line. */
export function startDev(appDir: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<RunningMaster> {
  return startFw(['dev', appDir, '--port', '0', ...args], /fw dev\S*\s+\S*http:\/\/[^\s:]+:(\d+)\s/, env);
}

/** True while any process of the group (a master started by startFw leads its own) is alive. */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function startFw(args: string[], readyLine: RegExp, env: NodeJS.ProcessEnv): Promise<RunningMaster> {
  const child = execa(process.execPath, [fwBin, ...args], {
    cwd: repoRoot,
    env: { ...quiet, ...env },
    detached: true,
    reject: false,
    all: true,
    buffer: false,
  });
  let output = '';
  const waiters = new Set<() => void>();
  child.all?.setEncoding('utf8');
  child.all?.on('data', (chunk: string) => {
    output += chunk;
    for (const check of waiters) check();
  });
  let exitCode: number | undefined;
  let hasExited = false;
  const exitedPromise = child.then((result) => {
    hasExited = true;
    exitCode = result.exitCode;
    for (const check of waiters) check();
    return exitCode;
  });

  const waitFor = (pattern: RegExp, timeoutMs = 30_000, from = 0) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const check = () => {
        const match = output.slice(from).match(pattern);
        if (match) finish(() => resolve(match));
        else if (hasExited) finish(() => reject(new Error(`fw exited (code ${exitCode}) before printing ${pattern}:\n${output}`)));
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${pattern}:\n${output}`))), timeoutMs);
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        waiters.delete(check);
        settle();
      };
      waiters.add(check);
      check();
    });

  const pid = child.pid;
  if (pid === undefined) throw new Error('fw start did not spawn');
  const kill = async () => {
    if (!hasExited) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await exitedPromise;
  };
  try {
    const [, port] = await waitFor(readyLine);
    return {
      pid,
      port: Number(port),
      url: `http://127.0.0.1:${port}`,
      process: child,
      output: () => output,
      waitFor,
      signal: (signal) => process.kill(pid, signal),
      exited: (timeoutMs = 60_000) =>
        Promise.race([
          exitedPromise,
          new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`fw did not exit within ${timeoutMs} ms:\n${output}`)), timeoutMs).unref()),
        ]),
      kill,
    };
  } catch (error) {
    await kill();
    throw error;
  }
}

/** A process started by spawnGroup, leading a process group of its own. */
export interface ProcessGroup {
  pid: number;
  /** Resolves once the leader has exited (never rejects). */
  exited: Promise<void>;
  /**
   * TERM to the leader alone (`'leader'`, when it stops the rest itself) or to the whole group,
   * then KILL to the group if any of it is left after `graceMs`. Resolves once the leader has exited.
   */
  stop(graceMs: number, term: 'leader' | 'group'): Promise<void>;
}

/**
 * Spawns `command` in `cwd` as the leader of a process group of its own (so that whatever it
 * starts, fw's workers or the fw under an npm script, is stopped with it), with the environment of
 * a run outside the repository (`npmEnv`) and no stdin; `onOutput` gets stdout and stderr as they come.
 */
export function spawnGroup(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; onOutput: (chunk: string) => void }): ProcessGroup {
  const child = execa(command, args, {
    cwd: options.cwd,
    env: npmEnv(options.env),
    extendEnv: false,
    detached: true,
    reject: false,
    all: true,
    buffer: false,
    stdin: 'ignore',
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${command} ${args.join(' ')} did not spawn`);
  child.all?.setEncoding('utf8');
  child.all?.on('data', options.onOutput);
  const exited = child.then(() => undefined);
  const signal = (target: number, name: NodeJS.Signals) => {
    try {
      process.kill(target, name);
    } catch {
      // already gone
    }
  };
  const stop = async (graceMs: number, term: 'leader' | 'group') => {
    signal(term === 'leader' ? pid : -pid, 'SIGTERM');
    const deadline = Date.now() + graceMs;
    while (groupAlive(pid) && Date.now() < deadline) await sleep(50);
    signal(-pid, 'SIGKILL');
    await exited;
  };
  return { pid, exited, stop };
}

/** True while a process with this pid exists. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * True while the process runs: a zombie (exited, not yet reaped, as an orphan whose new parent
 * does not reap it in a container) counts as gone: it holds no socket and runs no code. Linux only.
 */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Pids of the workers the master reported up, by generation. */
export function workerPids(output: string): Map<number, number[]> {
  const byGeneration = new Map<number, number[]>();
  for (const match of output.matchAll(/worker \d+ \(pid (\d+), generation (\d+)\) up/g)) {
    const generation = Number(match[2]);
    byGeneration.set(generation, [...(byGeneration.get(generation) ?? []), Number(match[1])]);
  }
  return byGeneration;
}
