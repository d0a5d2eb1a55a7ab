import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { safeName } from '@fwjs/proxy';
import { copyExampleApp, type AppFixture } from './helpers/app-fixture.js';
import { fw, groupAlive, isAlive, startMaster, type RunningMaster } from './helpers/fw-process.js';
import { startLoad } from './helpers/load-client.js';
import { freePort, proxyBinary, startHaproxy, type RunningProxy } from './helpers/proxies.js';

const haproxy = proxyBinary('haproxy');
const HOSTS = 3;

async function pidOf(dir: string): Promise<number> {
  return Number((await readFile(path.join(dir, '.fw', 'master.pid'), 'utf8')).trim());
}

describe.skipIf(!haproxy.available)(`a fleet behind HAProxy${haproxy.reason ? ` (skipped: ${haproxy.reason})` : ''}`, () => {
  const apps: AppFixture[] = [];
  const masters: RunningMaster[] = [];
  let proxy: RunningProxy | undefined;
  afterEach(async () => {
    await proxy?.stop();
    for (const master of masters) {
      await master.kill();
      if (groupAlive(master.pid)) process.kill(-master.pid, 'SIGKILL');
    }
    for (const app of apps) await app.remove();
  });

  it(`rolls a master upgrade across ${HOSTS} hosts, one out of the proxy at a time, with 0 failed requests`, async () => {
    // Several fw masters on loopback ports stand for the hosts.
    for (let host = 1; host <= HOSTS; host++) {
      const app = await copyExampleApp(`fleet-${host}`);
      apps.push(app);
      expect((await fw(['build', app.dir])).exitCode).toBe(0);
      masters.push(await startMaster(app.dir, ['--workers', '1']));
    }
    const port = await freePort();
    const conf = path.join(apps[0]!.dir, '.fw', 'haproxy.cfg');
    const stats = path.join(apps[0]!.dir, '.fw', 'haproxy.sock');
    const upstreams = masters.flatMap((master) => ['--upstream', `127.0.0.1:${master.port}`]);
    const written = await fw(['proxy', 'haproxy', apps[0]!.dir, ...upstreams, '--listen', `127.0.0.1:${port}`, '--stats-socket', stats, '--write', conf, '--check']);
    expect(written.exitCode, written.all).toBe(0);
    proxy = await startHaproxy(conf, port);

    const before = await Promise.all(apps.map((app) => pidOf(app.dir)));
    const load = startLoad(`http://127.0.0.1:${port}`, { connections: 24 });
    await sleep(1_000);
    const hosts = apps.flatMap((app, index) => ['--host', `app${index + 1}=${app.dir}`]);
    const rollout = await fw(['proxy', 'rollout', '--stats-socket', stats, '--backend', `fw_${safeName(path.basename(apps[0]!.dir))}`, ...hosts], { timeoutMs: 180_000 });
    expect(rollout.exitCode, rollout.all).toBe(0);
    expect(rollout.stdout).toMatch(new RegExp(`rolled out to ${HOSTS} hosts`));
    await sleep(1_000);
    const result = await load.stop();
    console.info(`fleet rollout under load: ${JSON.stringify(result)}`);
    expect(result.failed, JSON.stringify(result)).toBe(0);

    const after = await Promise.all(apps.map((app) => pidOf(app.dir)));
    // An old master exits once its last connection is gone; HAProxy may hold an idle pooled one
    // for up to its keep-alive timeout.
    await expect.poll(() => before.filter((pid) => isAlive(pid!)), { timeout: 40_000, interval: 100, message: 'old masters still running' }).toEqual([]);
    for (let host = 0; host < HOSTS; host++) {
      expect(after[host]).not.toBe(before[host]);
      expect(isAlive(before[host]!)).toBe(false);
      expect(isAlive(after[host]!)).toBe(true);
    }
  });
});
