import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { copyExampleApp, type AppFixture } from './helpers/app-fixture.js';
import { groupAlive, startDev, type RunningMaster } from './helpers/fw-process.js';
import { startLoad } from './helpers/load-client.js';

const SAVES = 10;

describe('fw dev', () => {
  let app: AppFixture | undefined;
  let dev: RunningMaster | undefined;

  afterEach(async () => {
    await dev?.kill();
    await app?.remove();
    dev = undefined;
    app = undefined;
  });

  it(`puts each of ${SAVES} saves live while a keep-alive client polls every 5 ms, failing no request`, async () => {
    app = await copyExampleApp('dev-saves');
    dev = await startDev(app.dir);
    const poller = startLoad(dev.url, { connections: 1, pauseMs: 5 });
    await poller.waitForVersion('v1', 10_000);
    for (let save = 1; save <= SAVES; save++) {
      const mark = dev.output().length;
      await app.setVersion(`v1.${save}`);
      await dev.waitFor(/reloaded in \d+ ms/, 15_000, mark);
      await poller.waitForVersion(`v1.${save}`, 5_000);
      await sleep(100);
    }
    const stats = await poller.stop();
    console.info(`fw dev saves under polling: ${JSON.stringify(stats)}`);
    expect(stats.failed, JSON.stringify(stats)).toBe(0);
    for (let save = 1; save <= SAVES; save++) expect(stats.versions[`v1.${save}`]).toBeGreaterThan(0);
  });

  it('never serves a save that was seen half-written: the build after the last write goes live', async () => {
    app = await copyExampleApp('dev-half');
    dev = await startDev(app.dir);
    const poller = startLoad(dev.url, { connections: 1, pauseMs: 5 });
    await poller.waitForVersion('v1', 10_000);
    const appFile = path.join(app.dir, 'src', 'app.ts');
    const { open, readFile } = await import('node:fs/promises');
    const source = await readFile(appFile, 'utf8');
    for (let save = 1; save <= 3; save++) {
      const mark = dev.output().length;
      // An editor that truncates first and writes a moment later.
      const handle = await open(appFile, 'w');
      await sleep(40);
      await handle.writeFile(source.replace("export const VERSION = 'v1';", `export const VERSION = 'v-half-${save}';`));
      await handle.close();
      await poller.waitForVersion(`v-half-${save}`, 15_000);
      expect(dev.output().slice(mark)).not.toMatch(/failed to start|build failed/);
    }
    const stats = await poller.stop();
    expect(stats.failed, JSON.stringify(stats)).toBe(0);
  });

  it('keeps the previous version answering through a syntax error and a throw at start-up, then serves the fix', async () => {
    app = await copyExampleApp('dev-errors');
    dev = await startDev(app.dir);
    const poller = startLoad(dev.url, { connections: 1, pauseMs: 5 });
    await poller.waitForVersion('v1', 10_000);

    const routeFile = path.join(app.dir, 'src', 'routes', 'health.ts');
    const { readFile } = await import('node:fs/promises');
    const route = await readFile(routeFile, 'utf8');
    let mark = dev.output().length;
    await writeFile(routeFile, route.replace('ok: true,', 'ok: true,,'));
    const syntax = await dev.waitFor(/build failed[\s\S]*the previous version keeps serving/, 15_000, mark);
    expect(syntax[0]).toMatch(/src\/routes\/health\.ts:\d+:\d+/);
    await writeFile(routeFile, route);

    mark = dev.output().length;
    // Every state in between must be one that cannot serve: the throw goes in first.
    await app.breakStartup('cannot reach the database (deliberate)');
    await app.setVersion('v-broken');
    // A fresh worker boots the broken build: 30 s, since CI runs this suite on three Node.js at once.
    const thrown = await dev.waitFor(/the app failed to start[\s\S]*the previous version keeps serving/, 30_000, mark);
    expect(thrown[0]).toContain('cannot reach the database (deliberate)');
    expect(thrown[0]).toMatch(/src\/app\.ts:\d+:\d+/);

    await sleep(300);
    expect(poller.stats().versions['v-broken']).toBeUndefined();
    await app.setVersion('v-fixed');
    await app.restoreStartup();
    await poller.waitForVersion('v-fixed', 15_000);
    const stats = await poller.stop();
    expect(stats.failed, JSON.stringify(stats)).toBe(0);
    expect(stats.versions.v1).toBeGreaterThan(0);
  });

  it('answers 503 with the error while no version has booted, never refusing a connection', async () => {
    app = await copyExampleApp('dev-503');
    await app.breakStartup('missing API key (deliberate)');
    dev = await startDev(app.dir);
    const broken = await fetch(`${dev.url}/`);
    expect(broken.status).toBe(503);
    const body = await broken.text();
    expect(body).toContain('The app failed to start');
    expect(body).toContain('missing API key (deliberate)');

    const mark = dev.output().length;
    await app.restoreStartup();
    await dev.waitFor(/serving in \d+ ms/, 15_000, mark);
    const fixed = await fetch(`${dev.url}/`);
    expect(fixed.status).toBe(200);
  });

  it('gives the app the values of .env and reloads when .env changes', async () => {
    app = await copyExampleApp('dev-env');
    await writeFile(path.join(app.dir, '.env'), 'GREETING=ahoy\n');
    dev = await startDev(app.dir);
    const greet = async () => ((await (await fetch(`${dev!.url}/hello/fw`)).json()) as { greeting: string }).greeting;
    expect(await greet()).toBe('ahoy, fw');
    const mark = dev.output().length;
    await writeFile(path.join(app.dir, '.env'), 'GREETING=bonjour\n');
    await dev.waitFor(/reloaded in \d+ ms \(\.env\)/, 15_000, mark);
    expect(await greet()).toBe('bonjour, fw');
  });

  it('retires the warm spare when package.json changes', async () => {
    app = await copyExampleApp('dev-deps');
    dev = await startDev(app.dir, ['--debug']);
    const mark = dev.output().length;
    const manifest = path.join(app.dir, 'package.json');
    const { readFile } = await import('node:fs/promises');
    await writeFile(manifest, (await readFile(manifest, 'utf8')).replace('"private": true', '"private": true, "keywords": ["changed"]'));
    // The worker after the change starts cold: no spare with possibly stale modules is used.
    await dev.waitFor(/dependencies changed: retiring the warm spare[\s\S]*reloaded in \d+ ms \(package\.json\)\s+wait .*\(cold = /, 15_000, mark);
  });

  it('--typecheck shows type errors without blocking the reload', async () => {
    app = await copyExampleApp('dev-types');
    dev = await startDev(app.dir, ['--typecheck']);
    await dev.waitFor(/\[tsc\].*Found 0 errors/, 60_000);
    const mark = dev.output().length;
    await app.setVersion('v-typed');
    const appFile = path.join(app.dir, 'src', 'app.ts');
    const { readFile } = await import('node:fs/promises');
    await writeFile(appFile, `${await readFile(appFile, 'utf8')}\nexport const wrong: number = 'not a number';\n`);
    await dev.waitFor(/reloaded in \d+ ms/, 15_000, mark);
    const response = await fetch(`${dev.url}/`);
    expect(((await response.json()) as { version: string }).version).toBe('v-typed');
    await dev.waitFor(/\[tsc\] src\/app\.ts\(\d+,\d+\): error TS2322/, 60_000, mark);
  });

  it('reloads on r + Enter and quits on q + Enter at a terminal', async () => {
    app = await copyExampleApp('dev-keys');
    // `script` gives fw dev a pseudo-terminal, as a person's shell would.
    const { execa } = await import('execa');
    const { fwBin } = await import('./helpers/fw-process.js');
    const session = execa('script', ['-qfec', `${process.execPath} ${fwBin} dev ${app.dir} --port 0`, '/dev/null'], {
      env: { LOG_LEVEL: 'warn' },
      stdin: 'pipe',
      all: true,
      reject: false,
      timeout: 60_000,
      detached: true,
    });
    let output = '';
    session.all?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const until = (pattern: RegExp) => expect.poll(() => output, { timeout: 60_000, interval: 25 }).toMatch(pattern);
    try {
      await until(/r \+ enter reloads, q \+ enter quits/);
      session.stdin?.write('r\n');
      await until(/reloaded\S* in \d+ ms \S*\(r pressed\)/);
      session.stdin?.write('q\n');
      const result = await session;
      expect(result.exitCode).toBe(0);
    } finally {
      if (session.pid) {
        try {
          process.kill(-session.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
  });

  it('stops on Ctrl-C with no process left behind', async () => {
    app = await copyExampleApp('dev-stop');
    dev = await startDev(app.dir);
    // Let the warm spare start, so there are a worker and a spare to clean up.
    await sleep(500);
    dev.signal('SIGINT');
    expect(await dev.exited(10_000)).toBe(0);
    await expect.poll(() => groupAlive(dev!.pid), { timeout: 5_000, interval: 50, message: 'a process of fw dev is left' }).toBe(false);
  });
});
