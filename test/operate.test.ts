import { stat } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { copyExampleApp, type AppFixture } from './helpers/app-fixture.js';
import { fw, isAlive, startMaster, type RunningMaster } from './helpers/fw-process.js';
import { startLoad } from './helpers/load-client.js';

interface StatusJson {
  pid: number;
  rss: number;
  build: string;
  binds: string[];
  workers: { pid: number; generation: number; state: string; stats: { rss: number; served: number; inFlight: number; connections?: number } | null }[];
  lastRollout: { ok: boolean; ms: number } | null;
  counters: { restarts: Record<string, number>; reloads: { ok: number; refused: number } };
}

async function status(dir: string): Promise<StatusJson> {
  const result = await fw(['status', dir, '--json']);
  expect(result.exitCode, result.all).toBe(0);
  return JSON.parse(result.stdout) as StatusJson;
}

/** Polls `fw status` until `check` passes (bounded). */
async function statusUntil(dir: string, check: (s: StatusJson) => boolean, timeoutMs: number): Promise<StatusJson> {
  const deadline = Date.now() + timeoutMs;
  let last = await status(dir);
  while (!check(last) && Date.now() < deadline) {
    await sleep(200);
    last = await status(dir);
  }
  expect(check(last), JSON.stringify(last, null, 2)).toBe(true);
  return last;
}

const ready = (s: StatusJson) => s.workers.filter((worker) => worker.state === 'ready');

describe('operating fw start', () => {
  let app: AppFixture;
  let master: RunningMaster | undefined;

  beforeEach(async () => {
    app = await copyExampleApp('operate');
    expect((await fw(['build', app.dir])).exitCode).toBe(0);
  });
  afterEach(async () => {
    await master?.kill();
    master = undefined;
    await app.remove();
  });

  it('fw status --json lists the workers with pids over a control socket only its owner can use', async () => {
    master = await startMaster(app.dir, ['--workers', '2']);
    const socket = await stat(path.join(app.dir, '.fw', 'control.sock'));
    expect(socket.mode & 0o777).toBe(0o600);
    const now = await statusUntil(app.dir, (s) => ready(s).every((worker) => worker.stats !== null), 5_000);
    expect(now.pid).toBe(master.pid);
    expect(ready(now)).toHaveLength(2);
    for (const worker of now.workers) expect(isAlive(worker.pid)).toBe(true);
    expect(now.binds).toEqual([master.url]);
    expect(now.rss).toBeGreaterThan(0);
    const table = await fw(['status', app.dir]);
    expect(table.stdout).toMatch(/^master {3}pid \d+/);
    expect(table.stdout).toMatch(/pid\s+gen\s+state\s+uptime\s+rss\s+served\s+in flight/);
  });

  it('TTIN then TTOU: 3 workers, then 2, as fw status shows', async () => {
    master = await startMaster(app.dir, ['--workers', '2']);
    master.signal('SIGTTIN');
    await statusUntil(app.dir, (s) => ready(s).length === 3, 20_000);
    master.signal('SIGTTOU');
    await statusUntil(app.dir, (s) => s.workers.length === 2 && ready(s).length === 2, 20_000);
  });

  it('a worker added under keep-alive load gets its share of the kept-alive connections, failing no request', async () => {
    master = await startMaster(app.dir, ['--workers', '1']);
    // 16 kept-alive connections, all on the only worker.
    const load = startLoad(master.url, { connections: 16 });
    await sleep(1_000);
    master.signal('SIGTTIN');
    const [, added] = await master.waitFor(/worker \d+ \(pid (\d+), generation 1\) up/, 20_000, master.output().indexOf('serving'));
    // The first worker is asked to let the excess go after their next responses; the clients
    // reconnect, and the new worker takes its part.
    await master.waitFor(/holds \d+ of \d+ kept-alive connections over 2 workers: closing \d+ after their next response/, 20_000);
    const spread = await statusUntil(app.dir, (s) => (s.workers.find((worker) => worker.pid === Number(added))?.stats?.connections ?? 0) >= 4, 30_000);
    const stats = await load.stop();
    console.info(`connections spread after TTIN: ${JSON.stringify(spread.workers.map((worker) => worker.stats?.connections))}, load ${JSON.stringify(stats)}`);
    expect(stats.failed, JSON.stringify(stats)).toBe(0);
    expect(stats.connectionsOpened).toBeGreaterThan(16);
  });

  it('with --timeout 3, replaces a worker whose event loop spins, within 10 s, while the other serves', async () => {
    master = await startMaster(app.dir, ['--workers', '2', '--timeout', '3']);
    const before = ready(await statusUntil(app.dir, (s) => ready(s).length === 2, 10_000)).map((worker) => worker.pid);
    const spinning = fetch(`${master.url}/block?ms=600000`).then((r) => r.status, (error: Error) => error.name);
    await sleep(300);
    const load = startLoad(master.url, { connections: 4 });
    const askedAt = Date.now();
    await master.waitFor(/is unresponsive: no heartbeat for [\d.]+ s \(timeout 3 s\); killing it and starting a replacement/, 10_000);
    await master.waitFor(/killed: unresponsive/, 10_000);
    // Its replacement boots on the core the stuck worker no longer burns; replaced = the stuck one
    // gone and two workers ready again, within 10 s.
    const after = await statusUntil(app.dir, (s) => ready(s).length === 2 && before.filter((pid) => isAlive(pid)).length === 1, 20_000);
    expect(Date.now() - askedAt).toBeLessThan(10_000);
    expect(after.counters.restarts.unresponsive).toBe(1);
    const stats = await load.stop();
    // The other worker kept serving the whole time.
    expect(stats.ok).toBeGreaterThan(100);
    expect(await spinning).not.toBe(200);
  });

  it('two worker crashes under keep-alive load: at least 99% succeed, no gap over 1 s, master stays up', async () => {
    master = await startMaster(app.dir, ['--workers', '2']);
    const load = startLoad(master.url, { connections: 16 });
    await sleep(1_000);
    for (let crash = 0; crash < 2; crash++) {
      const [victim] = ready(await statusUntil(app.dir, (s) => ready(s).length === 2, 10_000));
      process.kill(victim!.pid, 'SIGKILL');
      await master.waitFor(new RegExp(`pid ${victim!.pid}, generation 1\\) crashed`), 5_000);
      await sleep(1_000);
    }
    await statusUntil(app.dir, (s) => ready(s).length === 2, 10_000);
    const stats = await load.stop();
    console.info(`two crashes under load: ${JSON.stringify(stats)}`);
    expect(stats.ok / (stats.ok + stats.failed)).toBeGreaterThanOrEqual(0.99);
    expect(stats.maxGapMs).toBeLessThan(1_000);
    expect(isAlive(master.pid)).toBe(true);
    expect((await status(app.dir)).counters.restarts.crash).toBe(2);
  });

  it('--max-requests recycles workers under keep-alive load without failing a request', async () => {
    master = await startMaster(app.dir, ['--workers', '2', '--max-requests', '2000', '--max-requests-jitter', '200']);
    const load = startLoad(master.url, { connections: 8 });
    await statusUntil(app.dir, (s) => s.counters.restarts['max-requests']! >= 2, 30_000);
    const stats = await load.stop();
    console.info(`max-requests recycling under load: ${JSON.stringify(stats)}`);
    expect(stats.failed, JSON.stringify(stats)).toBe(0);
    expect(master.output()).toMatch(/is recycled: served \d+ requests \(limit (\d+)\); starting its replacement first/);
    for (const [, limit] of master.output().matchAll(/\(limit (\d+)\)/g)) {
      expect(Number(limit)).toBeGreaterThanOrEqual(2000);
      expect(Number(limit)).toBeLessThanOrEqual(2200);
    }
    await statusUntil(app.dir, (s) => ready(s).length === 2, 10_000);
  });

  it('fw start --watch: fw build alone puts a new version live, and a broken one is refused', async () => {
    master = await startMaster(app.dir, ['--workers', '2', '--watch']);
    let mark = master.output().length;
    await app.setVersion('v-watched');
    expect((await fw(['build', app.dir])).exitCode).toBe(0);
    await master.waitFor(/reload requested \(new build [^)]+\)[\s\S]*generation 2 ready/, 30_000, mark);
    // The old workers stop accepting a moment after the new ones are ready.
    await master.waitFor(/generation 1\) exited[\s\S]*generation 1\) exited/, 10_000, mark);
    expect(((await (await fetch(`${master.url}/`, { headers: { connection: 'close' } })).json()) as { version: string }).version).toBe('v-watched');

    mark = master.output().length;
    await app.breakStartup('broken on purpose');
    expect((await fw(['build', app.dir])).exitCode).toBe(0);
    await master.waitFor(/generation 3 refused: .*broken on purpose/, 30_000, mark);
    expect(((await (await fetch(`${master.url}/`, { headers: { connection: 'close' } })).json()) as { version: string }).version).toBe('v-watched');
  });

  it('--metrics serves Prometheus text: workers by state, restarts, reloads, requests, memory', async () => {
    master = await startMaster(app.dir, ['--workers', '2', '--metrics', '127.0.0.1:0']);
    const [, url] = await master.waitFor(/metrics at (http:\/\/\S+)/, 5_000);
    for (let i = 0; i < 5; i++) await fetch(`${master.url}/`);
    // The counts arrive with each worker's next heartbeat (once a second; later on a busy machine).
    const metrics = async () => (await fetch(url!)).text();
    await expect.poll(metrics, { timeout: 10_000, interval: 200 }).toMatch(/^fw_requests_total 5$/m);
    const text = await metrics();
    expect(text).toMatch(/^# TYPE fw_workers gauge$/m);
    expect(text).toMatch(/^fw_workers\{state="ready"\} 2$/m);
    expect(text).toMatch(/^fw_worker_restarts_total\{cause="crash"\} 0$/m);
    expect(text).toMatch(/^fw_reloads_total\{outcome="ok"\} 1$/m);
    expect(text).toMatch(/^fw_requests_total 5$/m);
    expect(text).toMatch(/^fw_master_resident_memory_bytes \d+$/m);
  });
});

describe('fw start logs', () => {
  it('--log-format json writes pino lines with the event fields, and SIGUSR1 reopens --log-file', async () => {
    const { mkdtemp, readFile, rename, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const app = await copyExampleApp('logs');
    const logs = await mkdtemp(path.join(tmpdir(), 'fw-logs-'));
    const logFile = path.join(logs, 'fw.log');
    let pid: number | undefined;
    try {
      expect((await fw(['build', app.dir])).exitCode).toBe(0);
      // The "serving" line goes to the file, so wait on the file rather than the output.
      const { execa } = await import('execa');
      const { fwBin } = await import('./helpers/fw-process.js');
      const child = execa(process.execPath, [fwBin, 'start', app.dir, '--port', '0', '--workers', '1', '--log-format', 'json', '--log-file', logFile], {
        env: { LOG_LEVEL: 'warn' },
        reject: false,
        detached: true,
      });
      pid = child.pid;
      const logged = () => readFile(logFile, 'utf8').catch(() => '');
      await expect.poll(logged, { timeout: 30_000, interval: 100 }).toContain('"event":"generation-ready"');
      const text = await readFile(logFile, 'utf8');
      const lines = text.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(lines.find((line) => line.event === 'generation-ready')).toMatchObject({ level: 30, name: 'fw', generation: 1, msg: expect.stringMatching(/^generation 1 ready in \d+ ms/) });
      expect(lines.find((line) => line.event === 'worker-ready')).toMatchObject({ worker: 1, workerPid: expect.any(Number) });

      await rename(logFile, `${logFile}.1`);
      process.kill(child.pid!, 'SIGUSR1');
      await expect.poll(logged, { timeout: 10_000, interval: 100 }).toContain('"msg":"log file reopened (SIGUSR1)"');
      process.kill(child.pid!, 'SIGTERM');
      expect((await child).exitCode).toBe(0);
      expect(await readFile(logFile, 'utf8')).toContain('"msg":"stopped"');
    } finally {
      if (pid !== undefined) {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      await app.remove();
      await rm(logs, { recursive: true, force: true });
    }
  });
});
