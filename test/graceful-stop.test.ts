import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { copyExampleApp, type AppFixture } from './helpers/app-fixture.js';
import { fw, isAlive, startMaster, workerPids, type RunningMaster } from './helpers/fw-process.js';

/** Resolves true when something accepts a connection on the port. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('fw start: graceful stop', () => {
  let app: AppFixture | undefined;
  let master: RunningMaster | undefined;

  afterEach(async () => {
    await master?.kill();
    await app?.remove();
    master = undefined;
  });

  // Each asks the master to stop and resolves once the asking is done: at once for a signal, when
  // the command exits for fw stop, which waits for the master and must report success.
  for (const [how, stop] of [
    ['SIGTERM', async (m: RunningMaster) => m.signal('SIGTERM')],
    [
      'fw stop',
      async (m: RunningMaster, dir: string) => {
        const stopped = await fw(['stop', dir], { timeoutMs: 20_000 });
        expect(stopped.exitCode, stopped.all).toBe(0);
        expect(stopped.stdout).toContain(`stopped (master pid ${m.pid})`);
      },
    ],
  ] as const) {
    it(`${how} lets a 2.5 s request in flight finish with 200, then everything exits`, async () => {
      app = await copyExampleApp('stop');
      master = await startMaster(app.dir, ['--workers', '2'], { LOG_LEVEL: 'info' });
      const workers = workerPids(master.output()).get(1) ?? [];
      expect(workers).toHaveLength(2);

      const mark = master.output().length;
      const slow = fetch(`${master.url}/slow?ms=2500`);
      // The request is in flight once a worker has logged it.
      await master.waitFor(/"url":"\/slow\?ms=2500"/, 10_000, mark);
      const asked = Date.now();
      const stopping = stop(master, app.dir);
      stopping.catch(() => undefined); // awaited below, once the request has been checked

      const response = await slow;
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ slept: 2500 });
      expect(Date.now() - asked).toBeGreaterThan(1_500);

      await stopping;
      expect(await master.exited(15_000)).toBe(0);
      expect(master.output()).toMatch(/stopped/);
      for (const pid of [master.pid, ...workers]) expect(isAlive(pid)).toBe(false);
      expect(await accepts(master.port)).toBe(false);
      // The app's own onClose hook ran in each worker.
      expect(master.output().match(/worker closing: all requests finished/g)).toHaveLength(2);
    });
  }

  it('a second SIGINT stops at once, without waiting for the request in flight', async () => {
    app = await copyExampleApp('interrupt');
    master = await startMaster(app.dir, ['--workers', '1'], { LOG_LEVEL: 'info' });
    const slow = fetch(`${master.url}/slow?ms=20000`).then((r) => r.status, (error: Error) => error.name);
    await master.waitFor(/"url":"\/slow\?ms=20000"/, 10_000);
    const asked = Date.now();
    master.signal('SIGINT');
    await master.waitFor(/stopping gracefully/, 5_000);
    master.signal('SIGINT');
    await master.exited(10_000);
    expect(Date.now() - asked).toBeLessThan(10_000);
    expect(await slow).not.toBe(200);
    expect(await accepts(master.port)).toBe(false);
  });
});
