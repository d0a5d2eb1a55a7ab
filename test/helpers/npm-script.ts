import { spawnGroup } from './fw-process.js';

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
  let output = '';
  let printed = () => {};
  const group = spawnGroup('npm', ['run', script, '--', ...args], {
    cwd,
    env: options.env,
    onOutput: (chunk) => {
      output += chunk;
      printed();
    },
  });
  // npm exits on TERM at once; the fw master it started stops gracefully after it, in the same group.
  const stop = (graceMs = 10_000) => group.stop(graceMs, 'group');

  try {
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`npm run ${script}: no ${readyLine} within ${options.timeoutMs ?? 60_000} ms:\n${output}`)), options.timeoutMs ?? 60_000);
      printed = () => {
        const match = output.match(readyLine);
        if (match) {
          clearTimeout(timer);
          resolve(Number(match[1]));
        }
      };
      printed();
      void group.exited.then(() => {
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
