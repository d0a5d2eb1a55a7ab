import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyExampleApp, type AppFixture } from './helpers/app-fixture.js';
import { fw, isAlive, startMaster, workerPids, type RunningMaster } from './helpers/fw-process.js';
import { startLoad } from './helpers/load-client.js';

const CYCLES = 5;
const CONNECTIONS = 32;

describe('fw start: reloads under keep-alive load', () => {
  let app: AppFixture;
  let master: RunningMaster | undefined;

  beforeAll(async () => {
    app = await copyExampleApp('reload');
    const built = await fw(['build', app.dir]);
    expect(built.exitCode, built.all).toBe(0);
  });

  afterAll(async () => {
    await master?.kill();
    await app.remove();
  });

  it(`loses no request over ${CYCLES} cycles of edit, fw build, fw reload with ${CONNECTIONS} kept-alive connections`, async () => {
    master = await startMaster(app.dir, ['--workers', '2']);
    const firstGeneration = workerPids(master.output()).get(1) ?? [];
    expect(firstGeneration).toHaveLength(2);

    const load = startLoad(master.url, { connections: CONNECTIONS });
    const loadStarted = Date.now();
    await sleep(2_000); // steady state before the first reload

    for (let cycle = 1; cycle <= CYCLES; cycle++) {
      const version = `v1.${cycle}`;
      await app.setVersion(version);
      const built = await fw(['build', app.dir]);
      expect(built.exitCode, built.all).toBe(0);

      const reloaded = await fw(['reload', app.dir]);
      expect(reloaded.exitCode, reloaded.all).toBe(0);
      expect(reloaded.stdout).toMatch(new RegExp(`generation ${cycle + 1} serving`));

      // The new version answers right after its reload: a new connection, and the next request on
      // the kept-alive ones (the newest answer the load got since the check is the new version's).
      const check = await fetch(`${master.url}/`, { headers: { connection: 'close' } });
      expect(((await check.json()) as { version: string }).version).toBe(version);
      const checkedAt = Date.now();
      await expect
        .poll(() => load.versionAfter(checkedAt), { timeout: 5_000, interval: 20, message: `the load's newest answer after reload ${cycle}` })
        .toBe(version);

      await sleep(Math.max(0, loadStarted + (cycle + 1) * 4_000 - Date.now()));
    }
    await sleep(2_000); // the last version under load too
    const stats = await load.stop();
    console.info(`reload under load: ${JSON.stringify(stats)}`);

    expect(stats.failed, JSON.stringify(stats)).toBe(0);
    expect(stats.ok).toBeGreaterThan(1_000);
    expect(stats.versions[`v1.${CYCLES}`]).toBeGreaterThan(0);
    // Kept-alive connections were asked to reconnect on every reload, so they moved to new code.
    expect(stats.connectionsOpened).toBeGreaterThanOrEqual(CONNECTIONS * (CYCLES + 1));

    // Every worker from before the reloads has drained and exited.
    for (const pid of firstGeneration) {
      await master.waitFor(new RegExp(`pid ${pid}, generation 1\\) exited \\(code 0\\)`), 10_000);
      expect(isAlive(pid)).toBe(false);
    }
    const generations = workerPids(master.output());
    for (let generation = 1; generation <= CYCLES; generation++) {
      for (const pid of generations.get(generation) ?? []) {
        await master.waitFor(new RegExp(`pid ${pid}, generation ${generation}\\) exited`), 10_000);
      }
    }
    expect(generations.get(CYCLES + 1)?.every(isAlive)).toBe(true);
  });
});
