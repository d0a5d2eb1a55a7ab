import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { copyExampleApp, type AppFixture } from './helpers/app-fixture.js';
import { fw, isAlive, startMaster, workerPids, type RunningMaster } from './helpers/fw-process.js';

/** Pids of workers reported up and not yet reported exited. */
function liveWorkers(output: string): number[] {
  const exited = new Set([...output.matchAll(/\(pid (\d+), generation \d+\) exited/g)].map((match) => Number(match[1])));
  return [...workerPids(output).values()].flat().filter((pid) => !exited.has(pid));
}

async function version(url: string): Promise<string> {
  const response = await fetch(`${url}/`, { headers: { connection: 'close' } });
  return ((await response.json()) as { version: string }).version;
}

describe('fw start: signals', () => {
  let app: AppFixture;
  let master: RunningMaster | undefined;

  beforeAll(async () => {
    app = await copyExampleApp('signals');
    expect((await fw(['build', app.dir])).exitCode).toBe(0);
  });
  afterEach(async () => {
    await master?.kill();
    master = undefined;
  });
  afterAll(async () => {
    await app.remove();
  });

  it('HUP rolls out the latest build', async () => {
    master = await startMaster(app.dir, ['--workers', '2']);
    await app.setVersion('v-hup');
    expect((await fw(['build', app.dir])).exitCode).toBe(0);
    const mark = master.output().length;
    master.signal('SIGHUP');
    await master.waitFor(/generation 2 ready in \d+ ms/, 30_000, mark);
    expect(await version(master.url)).toBe('v-hup');
    await master.waitFor(/generation 1\) exited \(code 0\)[\s\S]*generation 1\) exited \(code 0\)/, 10_000, mark);
  });

  it('TTIN adds a worker and TTOU removes the oldest', async () => {
    master = await startMaster(app.dir, ['--workers', '2']);
    // The oldest is the first started: the lowest worker number (they may come up in any order).
    const started = [...master.output().matchAll(/worker (\d+) \(pid (\d+), generation 1\) up/g)];
    const oldest = Number(started.sort((a, b) => Number(a[1]) - Number(b[1]))[0]?.[2]);
    let mark = master.output().length;
    master.signal('SIGTTIN');
    await master.waitFor(/now 3 workers/, 20_000, mark);
    expect(liveWorkers(master.output())).toHaveLength(3);

    mark = master.output().length;
    master.signal('SIGTTOU');
    await master.waitFor(/now 2 workers/, 20_000, mark);
    await master.waitFor(new RegExp(`pid ${oldest}, generation 1\\) exited`), 10_000, mark);
    expect(liveWorkers(master.output())).toHaveLength(2);
    expect(isAlive(oldest)).toBe(false);
  });

  it('replaces a worker that crashes, and the master stays up', async () => {
    master = await startMaster(app.dir, ['--workers', '2']);
    const [victim] = workerPids(master.output()).get(1) ?? [];
    const mark = master.output().length;
    process.kill(victim!, 'SIGKILL');
    await master.waitFor(new RegExp(`pid ${victim}, generation 1\\) crashed \\(signal SIGKILL\\); replacing it`), 10_000, mark);
    await master.waitFor(/generation 1\) up/, 20_000, mark);
    expect(liveWorkers(master.output())).toHaveLength(2);
    expect(isAlive(master.pid)).toBe(true);
    expect((await fetch(`${master.url}/health`)).status).toBe(200);
  });

  it('workers leave when their master is killed outright', async () => {
    master = await startMaster(app.dir, ['--workers', '2']);
    const workers = liveWorkers(master.output());
    expect(workers).toHaveLength(2);
    process.kill(master.pid, 'SIGKILL');
    await expect.poll(() => workers.filter(isAlive), { timeout: 3_000, interval: 50 }).toEqual([]);
  });
});
