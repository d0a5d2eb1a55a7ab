import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { copyExampleApp, type AppFixture } from './helpers/app-fixture.js';
import { fw, groupAlive, isAlive, startMaster, type RunningMaster } from './helpers/fw-process.js';
import { startLoad } from './helpers/load-client.js';

async function pidFile(dir: string): Promise<number> {
  return Number((await readFile(path.join(dir, '.fw', 'master.pid'), 'utf8')).trim());
}

describe('upgrading the master itself (USR2 / fw upgrade)', () => {
  let app: AppFixture;
  let master: RunningMaster | undefined;
  beforeEach(async () => {
    app = await copyExampleApp('upgrade');
    expect((await fw(['build', app.dir])).exitCode).toBe(0);
  });
  afterEach(async () => {
    // The new master shares the old one's process group: one kill ends both and their workers.
    await master?.kill();
    if (master && groupAlive(master.pid)) process.kill(-master.pid, 'SIGKILL');
    master = undefined;
    await app.remove();
  });

  it('USR2 under keep-alive load: a new master takes over the sockets and the pid file, the old one leaves, 0 failed', async () => {
    const socket = path.join(app.dir, '.fw', 'app.sock');
    master = await startMaster(app.dir, ['--workers', '2', '--bind', `unix:${socket}`, '--bind', '127.0.0.1:0']);
    const oldPid = master.pid;
    expect(await pidFile(app.dir)).toBe(oldPid);
    const load = startLoad(master.url, { connections: 32 });
    await sleep(1_000);

    master.signal('SIGUSR2');
    const [, newPid] = await master.waitFor(/new master \(pid (\d+)\) serves; this one \(pid \d+\) drains and exits/, 90_000);
    // (Not master.exited(): the new master inherited the old one's output pipes and keeps them open.)
    await master.waitFor(/stopped; the new master serves/, 90_000);
    await expect.poll(() => isAlive(oldPid), { timeout: 10_000, interval: 50, message: `the old master (pid ${oldPid}) is still alive` }).toBe(false);
    expect(await pidFile(app.dir)).toBe(Number(newPid));
    await sleep(1_000);
    const stats = await load.stop();
    console.info(`USR2 upgrade under load: ${JSON.stringify(stats)}`);
    expect(stats.failed, JSON.stringify(stats)).toBe(0);
    expect(stats.ok).toBeGreaterThan(500);

    // The new master answers on every socket and its control socket, and can itself be upgraded.
    const status = JSON.parse((await fw(['status', app.dir, '--json'])).stdout) as { pid: number; binds: string[] };
    expect(status.pid).toBe(Number(newPid));
    expect(status.binds[0]).toBe(`unix:${socket}`);
    const again = await fw(['upgrade', app.dir]);
    expect(again.exitCode, again.all).toBe(0);
    expect(await pidFile(app.dir)).not.toBe(Number(newPid));
    expect((await fw(['stop', app.dir])).exitCode).toBe(0);
  });

  it('a new master that cannot start leaves the old one serving, with 0 failed requests', async () => {
    master = await startMaster(app.dir, ['--workers', '2']);
    const load = startLoad(master.url, { connections: 16 });
    await sleep(500);
    // The build on disk now throws at start-up: the new master's first generation fails.
    await app.breakStartup('the new master cannot start (deliberate)');
    expect((await fw(['build', app.dir])).exitCode).toBe(0);
    const refused = await fw(['upgrade', app.dir]);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toMatch(/upgrade refused, the running master keeps serving/);
    expect(master.output()).toMatch(/upgrade refused, this master keeps serving/);
    expect(isAlive(master.pid)).toBe(true);
    expect(await pidFile(app.dir)).toBe(master.pid);
    await sleep(500);
    const stats = await load.stop();
    expect(stats.failed, JSON.stringify(stats)).toBe(0);
    expect((await fetch(`${master.url}/`, { headers: { connection: 'close' } })).status).toBe(200);
  });
});
