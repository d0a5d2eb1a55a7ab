import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { groupAlive } from './fw-process.js';
import { npmEnv } from './packed-fw.js';

/** A long-running `npm run <script>` (fw start, fw dev) in its own process group. */
export interface RunningScript {
  port: number;
  url: string;
  output(): string;
  /** TERM to the whole group, then KILL if any of it is still there after `graceMs`. Resolves once all of it is gone. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Runs `npm run <script> -- ...args` in `cwd` and waits (bounded) for a line matching `readyLine`,
 * whose first group is the port. On a timeout or an early exit, the group is killed and it throws
 * with everything printed so far.
 */
export async function startScript(
  cwd: string,
  script: string,
  args: string[],
  readyLine: RegExp,
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<RunningScript> {
  const child = execa('npm', ['run', script, '--', ...args], {
    cwd,
    env: npmEnv(options.env),
    extendEnv: false,
    detached: true,
    reject: false,
    all: true,
    buffer: false,
    stdin: 'ignore',
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`npm run ${script} did not spawn`);
  let output = '';
  const exit = child.then(() => undefined);
  child.all?.setEncoding('utf8');

  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-pid, signal);
    } catch {
      // the group is gone
    }
  };
  const stop = async (graceMs = 10_000) => {
    signalGroup('SIGTERM');
    // npm exits on TERM at once; the fw master it started stops gracefully after it, in the same group.
    const deadline = Date.now() + graceMs;
    while (groupAlive(pid) && Date.now() < deadline) await sleep(50);
    signalGroup('SIGKILL');
    await exit;
  };

  try {
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`npm run ${script}: no ${readyLine} within ${options.timeoutMs ?? 60_000} ms:\n${output}`)), options.timeoutMs ?? 60_000);
      child.all?.on('data', (chunk: string) => {
        output += chunk;
        const match = output.match(readyLine);
        if (match) {
          clearTimeout(timer);
          resolve(Number(match[1]));
        }
      });
      void exit.then(() => {
        clearTimeout(timer);
        reject(new Error(`npm run ${script} exited before ${readyLine}:\n${output}`));
      });
    });
    return { port, url: `http://127.0.0.1:${port}`, output: () => output, stop };
  } catch (error) {
    await stop(0);
    throw error;
  }
}
