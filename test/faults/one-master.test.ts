import { constants, existsSync, readdirSync, readFileSync } from 'node:fs';
import { lstat, open, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyExampleApp, repoRoot, type AppFixture } from '../helpers/app-fixture.js';
import { fw, fwBin, groupAlive } from '../helpers/fw-process.js';

const ROUNDS = 20;
const SERVING = /serving .*?http:\/\/[^\s,]+:(\d+)[\s,]/;

/** `fw start` as a real process leading its own process group, its output collected. */
function spawnStart(appDir: string) {
  const child: ResultPromise = execa(process.execPath, [fwBin, 'start', appDir, '--port', '0', '--workers', '1'], {
    cwd: repoRoot,
    env: { LOG_LEVEL: 'warn' },
    detached: true,
    reject: false,
    all: true,
    buffer: false,
    stdin: 'ignore',
  });
  let output = '';
  let stderr = '';
  child.all?.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  let exitCode: number | undefined;
  let exited = false;
  const done = child.then((result) => {
    exited = true;
    exitCode = result.exitCode;
  });
  return {
    pid: child.pid!,
    output: () => output,
    stderr: () => stderr,
    exited: () => exited,
    exitCode: () => exitCode,
    done,
    kill: () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    },
  };
}
type Started = ReturnType<typeof spawnStart>;

/** Polls until `check` holds, or fails after `timeoutMs` with what the masters printed. */
async function until(check: () => boolean, timeoutMs: number, starts: Started[]): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms:\n${starts.map((start) => `--- pid ${start.pid}\n${start.output()}`).join('\n')}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Whether a thread of the process is blocked opening a FIFO (Linux: its wchan). */
function waitingOnFifo(pid: number): boolean {
  try {
    return readdirSync(`/proc/${pid}/task`).some((task) => readFileSync(`/proc/${pid}/task/${task}/wchan`, 'utf8') === 'wait_for_partner');
  } catch {
    return false;
  }
}

/**
 * Lines two starts up on the pid file: a FIFO in its place holds any process that opens it to read
 * (fw before the fix read the pid file first, then wrote its own) until a writer comes. Once each
 * start is held there, or went past it, one open and close lets every held one through at once.
 */
async function releaseTogether(fifo: string, pair: Started[]): Promise<void> {
  await until(() => pair.every((start) => start.exited() || SERVING.test(start.output()) || waitingOnFifo(start.pid)), 20_000, pair);
  const deadline = Date.now() + 10_000;
  while ((await lstat(fifo).catch(() => null))?.isFIFO() && pair.some((start) => waitingOnFifo(start.pid)) && Date.now() < deadline) {
    const writer = await open(fifo, constants.O_WRONLY | constants.O_NONBLOCK).catch(() => null);
    await writer?.close();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('one master per app: a lock the kernel enforces', () => {
  let app: AppFixture;
  const started: Started[] = [];

  beforeAll(async () => {
    app = await copyExampleApp('faults-one-master');
    expect((await fw(['build', app.dir])).exitCode).toBe(0);
  });
  afterAll(async () => {
    for (const start of started) if (groupAlive(start.pid)) start.kill();
    await Promise.all(started.map((start) => start.done));
    await app.remove();
  });

  it(`two fw start at the same instant, ${ROUNDS} times: exactly one serves, the other says who does, and fw status / fw stop work on the one`, async () => {
    const fwDir = path.join(app.dir, '.fw');
    const tally = { oneServed: 0 };
    for (let round = 1; round <= ROUNDS; round++) {
      // Every other round, a FIFO where the pid file goes lines the two up on it (see releaseTogether):
      // it names no master, so it is a stale pid file to fw.
      const lineUp = round % 2 === 0;
      if (lineUp) await execa('mkfifo', [path.join(fwDir, 'master.pid')]);
      const pair = [spawnStart(app.dir), spawnStart(app.dir)];
      started.push(...pair);
      if (lineUp) await releaseTogether(path.join(fwDir, 'master.pid'), pair);
      // Each either serves or exits; the loser exits at once, the winner serves within the bound.
      await until(() => pair.every((start) => start.exited() || SERVING.test(start.output())), 20_000, pair);
      const winners = pair.filter((start) => !start.exited());
      const losers = pair.filter((start) => start.exited());
      expect(winners, `round ${round}: ${pair.map((start) => start.output()).join('\n---\n')}`).toHaveLength(1);
      const winner = winners[0]!;
      const loser = losers[0]!;
      await until(() => SERVING.test(winner.output()), 20_000, pair);

      // The loser: exit 1, one line naming the winner, and nothing of the winner's removed.
      expect(loser.exitCode(), loser.output()).toBe(1);
      expect(loser.stderr().trim().split('\n'), loser.stderr()).toEqual([
        `fw: another fw master (pid ${winner.pid}) serves this app: fw stop first, or fw status`,
      ]);
      expect(loser.output()).not.toMatch(/generation 1/);
      expect((await readFile(path.join(fwDir, 'master.pid'), 'utf8')).trim()).toBe(String(winner.pid));
      expect(existsSync(path.join(fwDir, 'control.sock'))).toBe(true);

      // The winner answers fw status and stops with fw stop.
      const status = await fw(['status', app.dir, '--json'], { timeoutMs: 15_000 });
      expect(status.exitCode, status.all).toBe(0);
      expect((JSON.parse(status.stdout) as { pid: number }).pid).toBe(winner.pid);
      const stop = await fw(['stop', app.dir], { timeoutMs: 20_000 });
      expect(stop.exitCode, stop.all).toBe(0);
      expect(stop.stdout).toContain(`master pid ${winner.pid}`);
      await until(() => winner.exited(), 10_000, pair);
      expect(winner.exitCode(), winner.output()).toBe(0);

      // Nothing left behind: no pid file, control socket or staging file of either.
      expect((await readdir(fwDir)).filter((name) => /^(master|control)/.test(name))).toEqual([]);
      tally.oneServed++;
    }
    console.info(`${tally.oneServed}/${ROUNDS} simultaneous starts: exactly one master served, fw status and fw stop worked on it`);
  }, 120_000);
});
