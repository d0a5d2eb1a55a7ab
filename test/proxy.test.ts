import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import http from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { wrapNginx } from '@fwjs/proxy';
import { copyExampleApp, type AppFixture } from './helpers/app-fixture.js';
import { fw, startMaster, type RunningMaster } from './helpers/fw-process.js';
import { startLoad } from './helpers/load-client.js';
import { freePort, proxyBinary, startHaproxy, startNginx, type RunningProxy } from './helpers/proxies.js';

const nginx = proxyBinary('nginx');
const haproxy = proxyBinary('haproxy');

/** The example app with `proxy.trust` set: only the proxy's own address is believed. */
async function trustingApp(name: string): Promise<AppFixture> {
  const app = await copyExampleApp(name);
  await writeFile(path.join(app.dir, 'fw.config.ts'), "import { defineConfig } from 'fwjs';\nexport default defineConfig({ proxy: { trust: '127.0.0.1' } });\n");
  expect((await fw(['build', app.dir])).exitCode).toBe(0);
  return app;
}

async function whoami(url: string, headers: Record<string, string> = {}): Promise<{ ip: string; protocol: string; host: string }> {
  // From 127.0.0.2: another loopback address than the proxy's, so the two can be told apart.
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.get({ hostname, port, path: '/whoami', headers, localAddress: '127.0.0.2', agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve(JSON.parse(body)));
    });
    req.setTimeout(5_000, () => req.destroy(new Error('no answer from /whoami within 5 s')));
    req.on('error', reject);
  });
}

describe.skipIf(!nginx.available)(`fw behind a real nginx${nginx.reason ? ` (skipped: ${nginx.reason})` : ''}`, () => {
  let app: AppFixture;
  let master: RunningMaster | undefined;
  let proxy: RunningProxy | undefined;
  beforeEach(async () => {
    app = await trustingApp('nginx');
  });
  afterEach(async () => {
    await proxy?.stop();
    await master?.kill();
    await app.remove();
    proxy = undefined;
    master = undefined;
  });

  it('3 cycles of build + fw reload through nginx under keep-alive load: 0 failed requests, no 502', async () => {
    const socket = path.join(app.dir, '.fw', 'app.sock');
    master = await startFwOnSocket(app.dir, socket);
    const port = await freePort();
    const conf = path.join(app.dir, '.fw', 'nginx-fw.conf');
    const written = await fw(['proxy', 'nginx', app.dir, '--listen', `127.0.0.1:${port}`, '--upstream', `unix:${socket}`, '--write', conf, '--check']);
    expect(written.exitCode, written.all).toBe(0);
    expect(written.stdout).toMatch(/\(nginx -t: ok\)/);
    proxy = await startNginx(conf, port, wrapNginx);
    const url = `http://127.0.0.1:${port}`;

    const load = startLoad(url, { connections: 32 });
    await sleep(1_000);
    for (let cycle = 1; cycle <= 3; cycle++) {
      await app.setVersion(`v-nginx-${cycle}`);
      expect((await fw(['build', app.dir])).exitCode).toBe(0);
      const reloaded = await fw(['reload', app.dir]);
      expect(reloaded.exitCode, reloaded.all).toBe(0);
      await load.waitForVersion(`v-nginx-${cycle}`, 10_000);
      await sleep(1_500);
    }
    const stats = await load.stop();
    console.info(`through nginx, 3 reloads: ${JSON.stringify(stats)}`);
    expect(stats.failed, JSON.stringify(stats)).toBe(0);
    expect(stats.statuses['502']).toBeUndefined();
    expect(stats.ok).toBeGreaterThan(500);

    // req.ip is the client's, as nginx reported it; a forged X-Forwarded-For is not believed.
    expect((await whoami(url)).ip).toBe('127.0.0.2');
    expect((await whoami(url, { 'x-forwarded-for': '6.6.6.6' })).ip).toBe('127.0.0.2');
  });
});

describe.skipIf(!haproxy.available)(`fw behind a real HAProxy${haproxy.reason ? ` (skipped: ${haproxy.reason})` : ''}`, () => {
  let app: AppFixture;
  let proxy: RunningProxy | undefined;
  beforeEach(async () => {
    app = await trustingApp('haproxy');
  });
  afterEach(async () => {
    await proxy?.stop();
    for (const color of ['blue', 'green']) await fw(['stop', app.dir, '--instance', color, '--force']);
    await app.remove();
    proxy = undefined;
  });

  it('reloads and a blue/green switch under keep-alive load through HAProxy: 0 failed requests', async () => {
    const port = await freePort();
    const conf = path.join(app.dir, '.fw', 'haproxy.cfg');
    const stats = path.join(app.dir, '.fw', 'haproxy.sock');
    const written = await fw(['proxy', 'haproxy', app.dir, '--blue-green', '--listen', `127.0.0.1:${port}`, '--stats-socket', stats, '--write', conf, '--check']);
    expect(written.exitCode, written.all).toBe(0);
    expect(await readFile(conf, 'utf8')).toContain('option idle-close-on-response');
    proxy = await startHaproxy(conf, port);

    // The first switch starts blue (nothing ran yet).
    const first = await fw(['proxy', 'switch', app.dir, '--via', 'haproxy', '--stats-socket', stats, '--workers', '2', '--socket-mode', '666'], { timeoutMs: 90_000 });
    expect(first.exitCode, first.all).toBe(0);
    const url = `http://127.0.0.1:${port}`;
    const load = startLoad(url, { connections: 32 });
    await load.waitForVersion('v1', 10_000);

    await app.setVersion('v-reloaded');
    expect((await fw(['build', app.dir])).exitCode).toBe(0);
    expect((await fw(['reload', app.dir, '--instance', 'blue'])).exitCode).toBe(0);
    await load.waitForVersion('v-reloaded', 10_000);

    await app.setVersion('v-green');
    expect((await fw(['build', app.dir])).exitCode).toBe(0);
    const switched = await fw(['proxy', 'switch', app.dir, '--via', 'haproxy', '--stats-socket', stats, '--workers', '2', '--socket-mode', '666'], { timeoutMs: 120_000 });
    expect(switched.exitCode, switched.all).toBe(0);
    expect(switched.stdout).toMatch(/green serves; blue stopped/);
    await load.waitForVersion('v-green', 10_000);
    await sleep(500);
    // A HAProxy reload after the switch keeps the live color: the switch saved the server states.
    process.kill(proxy.pid, 'SIGUSR2');
    await sleep(1_500);
    const before = load.stats().versions['v-green'] ?? 0;
    await sleep(500);
    expect(load.stats().versions['v-green'] ?? 0).toBeGreaterThan(before);
    const result = await load.stop();
    console.info(`through HAProxy, a reload and a blue/green switch: ${JSON.stringify(result)}`);
    expect(result.failed, JSON.stringify(result)).toBe(0);
    expect((await whoami(url, { 'x-forwarded-for': '6.6.6.6' })).ip).toBe('127.0.0.2');
  });
});

describe.skipIf(!nginx.available)(`blue/green through nginx${nginx.reason ? ` (skipped: ${nginx.reason})` : ''}`, () => {
  let app: AppFixture;
  let proxy: RunningProxy | undefined;
  beforeEach(async () => {
    app = await trustingApp('nginx-bg');
  });
  afterEach(async () => {
    await proxy?.stop();
    for (const color of ['blue', 'green']) await fw(['stop', app.dir, '--instance', color, '--force']);
    await app.remove();
    proxy = undefined;
  });

  it('switches colors with both in one upstream, no nginx reload, 0 failed requests', async () => {
    const port = await freePort();
    const conf = path.join(app.dir, '.fw', 'nginx-bg.conf');
    expect((await fw(['proxy', 'nginx', app.dir, '--blue-green', '--listen', `127.0.0.1:${port}`, '--write', conf, '--check'])).exitCode).toBe(0);
    proxy = await startNginx(conf, port, wrapNginx);
    const switchColors = () => fw(['proxy', 'switch', app.dir, '--via', 'nginx', '--workers', '1', '--socket-mode', '666'], { timeoutMs: 120_000 });
    expect((await switchColors()).exitCode).toBe(0);
    const load = startLoad(`http://127.0.0.1:${port}`, { connections: 16 });
    await load.waitForVersion('v1', 10_000);
    await app.setVersion('v-green');
    expect((await fw(['build', app.dir])).exitCode).toBe(0);
    const switched = await switchColors();
    expect(switched.exitCode, switched.all).toBe(0);
    expect(switched.stdout).toMatch(/green serves; blue stopped/);
    await load.waitForVersion('v-green', 10_000);
    await sleep(500);
    const stats = await load.stop();
    console.info(`blue/green through nginx: ${JSON.stringify(stats)}`);
    expect(stats.failed, JSON.stringify(stats)).toBe(0);
  });
});

describe('proxy.trust without a proxy', () => {
  it('a forged X-Forwarded-For from an untrusted peer is not believed', async () => {
    const app = await trustingApp('trust-direct');
    const master = await startMaster(app.dir, ['--workers', '1', '--host', '127.0.0.1']);
    try {
      const me = await whoami(master.url, { 'x-forwarded-for': '6.6.6.6' });
      expect(me.ip).toBe('127.0.0.2');
    } finally {
      await master.kill();
      await app.remove();
    }
  });
});

async function startFwOnSocket(dir: string, socket: string): Promise<RunningMaster> {
  // The test helper waits for an http address; listen on a free TCP port too.
  return startMaster(dir, ['--workers', '2', '--bind', `unix:${socket}`, '--bind', '127.0.0.1:0', '--socket-mode', '666']);
}
