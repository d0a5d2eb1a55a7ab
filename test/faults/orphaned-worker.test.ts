/**
 * A worker whose master is SIGKILLed while the worker's event loop is stuck (a 15 s computation):
 * its watchdog thread ends it within 2 s, so the port is free for a new master at once. Without
 * the watchdog it kept the port for the whole computation and `fw start` failed: "port in use".
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { type AppFixture, copyExampleApp } from '../helpers/app-fixture.js';
import { fw, isRunning, type RunningMaster, startMaster, workerPids } from '../helpers/fw-process.js';

const STUCK_FOR_MS = 15_000;
const EXIT_WITHIN_MS = 2_000;

let app: AppFixture | undefined;
const masters: RunningMaster[] = [];
const stuck: number[] = [];

afterEach(async () => {
  for (const master of masters.splice(0)) await master.kill();
  for (const pid of stuck.splice(0)) if (isRunning(pid)) process.kill(pid, 'SIGKILL');
  await app?.remove();
});

describe('a worker whose master dies while its event loop is stuck', () => {
  it(`exits within ${EXIT_WITHIN_MS / 1000} s, and a new master binds the same port at once`, async () => {
    app = await copyExampleApp('orphaned-worker');
    expect((await fw(['build', app.dir])).exitCode).toBe(0);
    const master = await startMaster(app.dir, ['--workers', '1']);
    masters.push(master);
    const [worker] = workerPids(master.output()).get(1) ?? [];
    expect(worker).toBeDefined();
    stuck.push(worker!);

    const blocking = new Client(master.url);
    void blocking.request({ method: 'GET', path: `/block?ms=${STUCK_FOR_MS}` }).catch(() => undefined);
    await untilStuck(master.url);

    process.kill(master.pid, 'SIGKILL');
    const killedAt = Date.now();
    while (isRunning(worker!) && Date.now() - killedAt < STUCK_FOR_MS) await sleep(20);
    const goneAfterMs = Date.now() - killedAt;
    await blocking.destroy();
    expect(isRunning(worker!), `worker ${worker} still runs ${goneAfterMs} ms after its master was killed`).toBe(false);
    expect(goneAfterMs).toBeLessThanOrEqual(EXIT_WITHIN_MS);
    expect(master.output()).toMatch(/its master \(pid \d+\) is gone and its event loop has been stuck for \d+ ms: exiting/);

    const next = await startMaster(app.dir, ['--workers', '1', '--port', String(master.port)]);
    masters.push(next);
    const answer = await fetch(`${next.url}/`);
    expect(answer.status).toBe(200);
  }, 60_000);
});

/** Resolves once the worker no longer answers a plain request within 300 ms: its loop is busy. */
async function untilStuck(url: string): Promise<void> {
  const until = Date.now() + 10_000;
  while (Date.now() < until) {
    try {
      await fetch(`${url}/`, { signal: AbortSignal.timeout(300) });
    } catch {
      return;
    }
  }
  throw new Error('the worker kept answering: its event loop never got stuck');
}
