/**
 * Bad input found under attack: numbers that `Number()` reads but a person did not mean
 * (`--port 0x50` bound port 80, `--workers 1e1` ran 10 workers), a `--timeout` below what the
 * heartbeat can honour (0.9 s killed 14 healthy workers in 10 s), an inherited `FW_TRUST_PROXY`
 * that reached the workers unvalidated, and an unreadable build reported as missing.
 */
import { existsSync } from 'node:fs';
import { readFile, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type AppFixture, copyExampleApp } from '../helpers/app-fixture.js';
import { fw, type RunningMaster, startMaster } from '../helpers/fw-process.js';
import { expectRefused as expectRefusedIn } from '../helpers/refused.js';

let app: AppFixture;
let master: RunningMaster | undefined;

beforeAll(async () => {
  app = await copyExampleApp('bad-input');
  expect((await fw(['build', app.dir])).exitCode).toBe(0);
});
afterEach(async () => {
  // A graceful stop removes the pid file; the kill ends whatever is left of the group.
  master?.signal('SIGTERM');
  await master?.exited(30_000).catch(() => undefined);
  await master?.kill();
  master = undefined;
});
afterAll(async () => {
  await app.remove();
});

/** Refused before anything starts: exit 2, one line, no pid file. */
const expectRefused = (result: Awaited<ReturnType<typeof fw>>, pattern: RegExp) => expectRefusedIn(result, pattern, app.dir);
// Bounded: before the fix these started a master that served until killed.
const start = (args: string[], env: NodeJS.ProcessEnv = {}) => fw(['start', app.dir, ...args], { env, timeoutMs: 20_000 });

describe('numbers are read strictly', () => {
  it('refuses --port 0x50 and --workers 1e1 with exit code 2', async () => {
    expectRefused(await start(['--port', '0x50']), /^fw: invalid --port "0x50": expected a whole number from 0 to 65535/);
    expectRefused(await start(['--port', '0', '--workers', '1e1']), /^fw: invalid --workers "1e1": expected a whole number from 1 to 256/);
  });

  it('refuses the same from the environment', async () => {
    expectRefused(await start(['--workers', '1'], { PORT: '0x50' }), /^fw: invalid PORT="0x50" in the environment/);
    expectRefused(await start(['--port', '0'], { WEB_CONCURRENCY: '1e1' }), /^fw: invalid WEB_CONCURRENCY="1e1" in the environment/);
  });
});

describe('timeouts the heartbeat cannot honour', () => {
  it('refuses --timeout 0.9 and says why', async () => {
    expectRefused(
      await start(['--port', '0', '--workers', '1', '--timeout', '0.9']),
      /^fw: invalid --timeout "0\.9": workers send a heartbeat every 1 s, so a timeout below 3 s \(three heartbeats\) would kill healthy workers; use 3 or more/,
    );
  });

  it('refuses a graceful timeout too short to close kept-alive connections cleanly', async () => {
    expectRefused(await start(['--port', '0', '--workers', '1', '--graceful-timeout', '1']), /^fw: invalid --graceful-timeout "1": .*2 s or more/);
  });
});

describe('an inherited FW_TRUST_PROXY', () => {
  it('does not make the workers trust X-Forwarded-For when proxy.trust is not set', async () => {
    // apps/example's fw.config.ts sets no proxy.trust: no client's X-Forwarded-For is believed.
    master = await startMaster(app.dir, ['--workers', '1'], { FW_TRUST_PROXY: 'true' });
    const response = await fetch(`${master.url}/whoami`, { headers: { 'x-forwarded-for': '6.6.6.6', connection: 'close' } });
    const whoami = (await response.json()) as { ip: string; ips: string[] };
    expect(whoami.ip).toBe('127.0.0.1');
    expect(whoami.ip).not.toBe('6.6.6.6');
  });
});

describe('an unreadable build', () => {
  it('is reported with the real error and its path, not as "has no app"', async () => {
    const folder = await realpath(path.join(app.dir, '.fw', 'build'));
    const manifest = JSON.parse(await readFile(path.join(folder, '.fw-release.json'), 'utf8')) as { entry: string };
    const entry = path.join(folder, manifest.entry);
    const original = await readFile(entry);
    // A link loop in place of the entry: ELOOP for every user (root reads files whatever their mode).
    await rm(entry);
    await symlink(path.basename(entry), entry);
    try {
      const result = await start(['--port', '0', '--workers', '1']);
      expect(result.exitCode, result.all).toBe(1);
      const lines = result.stderr.trim().split('\n');
      expect(lines, result.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(/^fw: cannot read the build: ELOOP: /);
      expect(lines[0]).toContain(entry);
      expect(result.all).not.toMatch(/has no|serving http|built /);
      expect(existsSync(path.join(app.dir, '.fw', 'master.pid'))).toBe(false);
    } finally {
      await rm(entry);
      await writeFile(entry, original);
    }
  });
});
