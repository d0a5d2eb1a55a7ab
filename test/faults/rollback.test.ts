/**
 * Bake time and automatic rollback: a build that passes the health gate but crashes 200 ms after
 * it is ready (every time) is rolled back by fw within the bake time, under a kept-alive load that
 * never retries; `fw reload` waits through the bake and exits non-zero naming the crash. Before,
 * the reload exited 0, the old generation drained, and the new one crash-looped.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type AppFixture, copyExampleApp } from '../helpers/app-fixture.js';
import { fw, type RunningMaster, startMaster } from '../helpers/fw-process.js';
import { startLoad } from '../helpers/load-client.js';

const CONNECTIONS = 8;
const WORKERS = 2;
const BAKE_S = 3;

let app: AppFixture | undefined;
let master: RunningMaster | undefined;

afterEach(async () => {
  await master?.kill();
  await app?.remove();
});

/** The app's start-up arms a crash: 200 ms after fw listens it (its onListen hook), the worker throws. */
async function crashAfterReady(dir: string): Promise<void> {
  const file = path.join(dir, 'src', 'app.ts');
  const source = await readFile(file, 'utf8');
  const armed = source.replace(
    '  await app.register(requestStats);',
    `  app.addHook('onListen', async () => {
    setTimeout(() => {
      throw new Error('crashes 200 ms after it is ready');
    }, 200);
  });
  await app.register(requestStats);`,
  );
  expect(armed).not.toBe(source);
  await writeFile(file, armed);
}

async function versionServed(url: string): Promise<string> {
  const answer = await fetch(`${url}/`);
  return ((await answer.json()) as { version: string }).version;
}

describe(`--bake-time ${BAKE_S}: a generation that crashes after it is ready`, () => {
  it('is rolled back by fw within the bake time, fw reload exits non-zero naming the crash, and a good build after it rolls out', async () => {
    app = await copyExampleApp('rollback');
    expect((await fw(['build', app.dir])).exitCode).toBe(0);
    master = await startMaster(app.dir, ['--workers', String(WORKERS), '--bake-time', String(BAKE_S)]);
    const firstBuild = (JSON.parse((await fw(['status', app.dir, '--json'])).stdout) as { build: string }).build;
    const load = startLoad(master.url, { connections: CONNECTIONS });
    await load.waitForVersion('v1', 10_000);

    await app.setVersion('v2');
    await crashAfterReady(app.dir);
    expect((await fw(['build', app.dir])).exitCode).toBe(0);
    const reloadStartedAt = Date.now();
    const reload = await fw(['reload', app.dir], { timeoutMs: 60_000 });
    const reloadMs = Date.now() - reloadStartedAt;
    expect(reload.exitCode, reload.all).toBe(1);
    expect(reload.stderr).toMatch(
      new RegExp(`reload rolled back: generation 2 failed within its ${BAKE_S} s bake time: worker \\d+ \\(pid \\d+\\) exited [\\d.]+ s after it was ready \\(code 1\\); rolled back to build ${firstBuild} \\(generation 3\\)`),
    );
    // Decided within the bake time (plus the rollback's own boot), not at its end.
    expect(reloadMs).toBeLessThan(BAKE_S * 1000 + 10_000);
    expect(await versionServed(master.url)).toBe('v1');
    expect(master.output()).toMatch(/generation 2 failed within its 3 s bake time: .*: rolling back to build/);
    expect(master.output()).toMatch(/rolled back: generation 3 serves build \S+ again/);

    const status = JSON.parse((await fw(['status', app.dir, '--json'])).stdout) as Record<string, unknown>;
    expect(status).toMatchObject({ generation: 3, build: firstBuild, lastRollout: { ok: false, rolledBack: { generation: 3 } }, counters: { reloads: { rolledBack: 1 } } });
    const text = await fw(['status', app.dir]);
    expect(text.stdout).toMatch(/reload {3}last rolled back after \d+ ms: generation 2 failed/);
    expect(text.stdout).toMatch(/1 rolled back/);

    // A good build after it rolls out as usual (and bakes without a crash): the fixture writes its
    // own copy of the source, which never had the crash.
    await app.setVersion('v3');
    expect((await fw(['build', app.dir])).exitCode).toBe(0);
    const good = await fw(['reload', app.dir], { timeoutMs: 60_000 });
    expect(good.exitCode, good.all).toBe(0);
    expect(await versionServed(master.url)).toBe('v3');

    const stats = await load.stop();
    console.info(`rollback under load: ${JSON.stringify(stats)}`);
    // Only requests in flight on the crashing workers fail: resets, never an error status. Each
    // connection can be on each crashing worker once (it reconnects to the other, which crashes too).
    expect(stats.statuses, JSON.stringify(stats)).toEqual({});
    expect(Object.keys(stats.errors).filter((code) => code !== 'ECONNRESET' && code !== 'UND_ERR_SOCKET'), JSON.stringify(stats)).toEqual([]);
    expect(stats.failed, JSON.stringify(stats)).toBeLessThanOrEqual(CONNECTIONS * WORKERS);
    expect(Object.keys(stats.versions).sort()).toEqual(expect.arrayContaining(['v1', 'v3']));
  }, 120_000);
});
