/**
 * `--metrics` on an address that cannot be bound (a port in use, an address not on this machine).
 * It used to be bound after the workers served, and its error ran a cleanup that never stopped
 * them: the pid file, the control socket and the signal handlers were gone while the workers kept
 * serving, a site nobody could stop with fw. Now it is bound before the first worker starts: fw
 * start exits non-zero with one line naming --metrics and the address, and leaves nothing behind.
 */
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AppFixture, copyExampleApp, repoRoot } from '../helpers/app-fixture.js';
import { fw, fwBin, groupAlive, isAlive, workerPids } from '../helpers/fw-process.js';

const EXIT_WITHIN_MS = 30_000;

/**
 * Runs `fw start` as the leader of its own process group (its workers join the group), waits a
 * bounded time for it to exit, then kills whatever of the group is left.
 */
async function startExpectingExit(args: string[]) {
  const child = execa(process.execPath, [fwBin, 'start', ...args], {
    cwd: repoRoot,
    env: { LOG_LEVEL: 'warn' },
    detached: true,
    reject: false,
    all: true,
  });
  const pid = child.pid!;
  const timer = setTimeout(() => child.kill('SIGTERM'), EXIT_WITHIN_MS);
  const result = await child;
  clearTimeout(timer);
  // What is still alive once the master has gone: the workers it started, if it left them.
  const workers = [...workerPids(result.all ?? '').values()].flat();
  const leftBehind = workers.filter(isAlive);
  const groupLeft = groupAlive(pid);
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // nothing left
  }
  for (const worker of leftBehind) {
    try {
      process.kill(worker, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  return { result, timedOut: result.isTerminated === true && result.signal === 'SIGTERM', workers, leftBehind, groupLeft };
}

describe('fw start --metrics on an address that cannot be bound', () => {
  let app: AppFixture;
  let blocker: net.Server;
  let blockedPort: number;

  beforeAll(async () => {
    app = await copyExampleApp('metrics-bind');
    expect((await fw(['build', app.dir])).exitCode).toBe(0);
    blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    blockedPort = (blocker.address() as net.AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => blocker.close(resolve));
    await app.remove();
  });

  const expectNothingLeft = (run: Awaited<ReturnType<typeof startExpectingExit>>) => {
    expect(run.timedOut, run.result.all).toBe(false);
    expect(run.result.exitCode, run.result.all).not.toBe(0);
    // Bound before any worker starts: none was started, none is left.
    expect(run.workers, run.result.all).toEqual([]);
    expect(run.leftBehind).toEqual([]);
    expect(run.groupLeft).toBe(false);
    expect(run.result.all).not.toMatch(/serving http/);
    expect(existsSync(path.join(app.dir, '.fw', 'master.pid'))).toBe(false);
    expect(existsSync(path.join(app.dir, '.fw', 'control.sock'))).toBe(false);
    const lines = run.result.stderr.trim().split('\n');
    expect(lines, run.result.stderr).toHaveLength(1);
    return lines[0]!;
  };

  it('a port in use: exits non-zero with one line naming --metrics and the address; no worker, pid file or control socket left', async () => {
    const run = await startExpectingExit([app.dir, '--port', '0', '--workers', '2', '--metrics', `127.0.0.1:${blockedPort}`]);
    const line = expectNothingLeft(run);
    expect(line).toMatch(new RegExp(`^fw: cannot serve --metrics 127\\.0\\.0\\.1:${blockedPort}: the port is already in use`));
  });

  it('an address not on this machine: the same, naming the address', async () => {
    // 192.0.2.0/24 is TEST-NET-1 (RFC 5737): never a local address.
    const run = await startExpectingExit([app.dir, '--port', '0', '--workers', '1', '--metrics', '192.0.2.1:9100']);
    const line = expectNothingLeft(run);
    expect(line).toMatch(/^fw: cannot serve --metrics 192\.0\.2\.1:9100: the address is not on this machine/);
  });

  it('a free address still serves metrics, and a stop leaves nothing behind', async () => {
    const child = execa(process.execPath, [fwBin, 'start', app.dir, '--port', '0', '--workers', '1', '--metrics', '127.0.0.1:0'], {
      cwd: repoRoot,
      env: { LOG_LEVEL: 'warn' },
      detached: true,
      reject: false,
      all: true,
      buffer: false,
    });
    let output = '';
    child.all?.setEncoding('utf8');
    child.all?.on('data', (chunk: string) => {
      output += chunk;
    });
    try {
      await expect.poll(() => output, { timeout: EXIT_WITHIN_MS, interval: 50 }).toMatch(/serving http/);
      const url = /metrics at (http:\/\/\S+)/.exec(output)?.[1];
      expect(url, output).toBeDefined();
      // Bound before the workers: its line comes before the "serving" line.
      expect(output.indexOf('metrics at')).toBeLessThan(output.indexOf('serving http'));
      expect(await (await fetch(url!)).text()).toMatch(/^fw_workers\{state="ready"\} 1$/m);
      child.kill('SIGTERM');
      const result = await Promise.race([child, sleep(EXIT_WITHIN_MS).then(() => null)]);
      expect(result?.exitCode, output).toBe(0);
      expect(existsSync(path.join(app.dir, '.fw', 'master.pid'))).toBe(false);
    } finally {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
});
