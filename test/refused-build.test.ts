import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyExampleApp, type AppFixture } from './helpers/app-fixture.js';
import { fw, isAlive, startMaster, workerPids, type RunningMaster } from './helpers/fw-process.js';
import { startLoad } from './helpers/load-client.js';

describe('fw reload: a build that cannot boot is refused', () => {
  let app: AppFixture;
  let master: RunningMaster | undefined;

  beforeAll(async () => {
    app = await copyExampleApp('refused');
    expect((await fw(['build', app.dir])).exitCode).toBe(0);
  });

  afterAll(async () => {
    await master?.kill();
    await app.remove();
  });

  it('keeps the old version serving with 0 failed requests, then rolls out the next good build', async () => {
    master = await startMaster(app.dir, ['--workers', '2']);
    const serving = workerPids(master.output()).get(1) ?? [];
    const load = startLoad(master.url, { connections: 16 });
    await sleep(1_000);

    await app.setVersion('v2-broken');
    await app.breakStartup('database is unreachable (deliberately broken deploy)');
    expect((await fw(['build', app.dir])).exitCode).toBe(0);
    const refused = await fw(['reload', app.dir]);
    expect(refused.exitCode).not.toBe(0);
    expect(refused.stderr).toContain('database is unreachable (deliberately broken deploy)');
    expect(refused.stderr).toMatch(/refused, the previous version keeps serving/);
    // The stack points at the TypeScript source, through the build's source map.
    expect(refused.stderr).toMatch(/src[/\\]app\.ts:\d+/);
    expect(master.output()).toMatch(/generation 2 refused/);

    await sleep(1_000);
    const during = load.stats();
    expect(during.versions['v2-broken']).toBeUndefined();
    expect(serving.every(isAlive)).toBe(true);
    const still = await fetch(`${master.url}/`, { headers: { connection: 'close' } });
    expect(((await still.json()) as { version: string }).version).toBe('v1');

    await app.restoreStartup();
    await app.setVersion('v3');
    expect((await fw(['build', app.dir])).exitCode).toBe(0);
    const good = await fw(['reload', app.dir]);
    expect(good.exitCode, good.all).toBe(0);
    expect(good.stdout).toMatch(/generation 3 serving/);
    await sleep(1_000);
    const stats = await load.stop();
    console.info(`refused build under load: ${JSON.stringify(stats)}`);

    expect(stats.failed, JSON.stringify(stats)).toBe(0);
    expect(stats.versions.v3).toBeGreaterThan(0);
    expect(stats.versions['v2-broken']).toBeUndefined();
    const now = await fetch(`${master.url}/`, { headers: { connection: 'close' } });
    expect(((await now.json()) as { version: string }).version).toBe('v3');
  });

  it('refuses a reload when the build folder is gone, and keeps serving', async () => {
    expect(master).toBeDefined();
    const { rm } = await import('node:fs/promises');
    await rm(`${app.dir}/.fw/build`, { force: true });
    const refused = await fw(['reload', app.dir]);
    expect(refused.exitCode).not.toBe(0);
    expect(refused.stderr).toMatch(/no build in .*fw build/);
    const still = await fetch(`${master!.url}/`, { headers: { connection: 'close' } });
    expect(still.status).toBe(200);
  });
});
