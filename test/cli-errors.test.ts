import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyExampleApp, type AppFixture } from './helpers/app-fixture.js';
import { fw, startMaster } from './helpers/fw-process.js';
import { expectRefused as expectRefusedIn } from './helpers/refused.js';

describe('fw: bad input is refused with one clear line, exit code 2, nothing started', () => {
  let app: AppFixture;

  beforeAll(async () => {
    app = await copyExampleApp('cli-errors');
  });
  afterAll(async () => {
    await app.remove();
  });

  const expectRefused = (result: Awaited<ReturnType<typeof fw>>, pattern: RegExp) => expectRefusedIn(result, pattern, app.dir);

  it('names a bad flag value and what it expects', async () => {
    expectRefused(await fw(['start', app.dir, '--port', 'abc']), /^fw: invalid --port "abc": expected a whole number from 0 to 65535/);
    expectRefused(await fw(['start', app.dir, '--workers', '0']), /invalid --workers "0": expected a whole number from 1/);
    expectRefused(await fw(['start', app.dir, '--graceful-timeout', '-5']), /invalid --graceful-timeout "-5": expected seconds, at least 2/);
    expectRefused(await fw(['dev', app.dir, '--spares', 'many']), /invalid --spares "many": expected a whole number from 0 to 4/);
  });

  it('names an unknown flag and where to look', async () => {
    expectRefused(await fw(['start', app.dir, '--prot', '3000']), /unknown option --prot for "fw start": see "fw start --help"/);
  });

  it('names a bad environment value', async () => {
    expectRefused(await fw(['start', app.dir], { env: { PORT: '70000' } }), /invalid PORT="70000" in the environment/);
  });

  it('names an unknown command and a missing app folder', async () => {
    expectRefused(await fw(['strat']), /unknown command "strat": the commands are [a-z, ]*\bstart\b/);
    expectRefused(await fw(['start', path.join(app.dir, 'nope')]), /app folder .*nope does not exist/);
  });

  it('names a bad value or an unknown setting in fw.config.ts', async () => {
    const configFile = path.join(app.dir, 'fw.config.ts');
    try {
      await writeFile(configFile, "import { defineConfig } from 'fwjs';\nexport default defineConfig({ port: 'eighty' as never });\n");
      expectRefused(await fw(['start', app.dir]), /invalid port: "eighty" in fw\.config\.ts: expected a whole number/);
      await writeFile(configFile, 'export default { prot: 3000 };\n');
      expectRefused(await fw(['start', app.dir]), /unknown setting "prot" in fw\.config\.ts: known settings are entry, entryKind, port/);
      await writeFile(configFile, 'export default { port: 3000 ;\n');
      expectRefused(await fw(['start', app.dir]), /fw\.config\.ts could not be loaded: fw\.config\.ts:1:\d+: Expected "}" but found ";"/);
    } finally {
      await writeFile(configFile, 'export default { port: 3000 };\n');
    }
  });
});

describe('fw: refusals that are not usage errors', () => {
  let app: AppFixture;
  beforeAll(async () => {
    app = await copyExampleApp('cli-refusals');
    expect((await fw(['build', app.dir])).exitCode).toBe(0);
  });
  afterAll(async () => {
    await app.remove();
  });

  it('fw reload with no master running says so and exits non-zero', async () => {
    const result = await fw(['reload', app.dir]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/no fw master is running here/);
  });

  it('a port already in use is refused before any worker starts', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as net.AddressInfo;
    try {
      const result = await fw(['start', app.dir, '--port', String(port), '--workers', '1']);
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toMatch(new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use`));
      expect(result.all).not.toMatch(/generation 1/);
      expect(existsSync(path.join(app.dir, '.fw', 'master.pid'))).toBe(false);
    } finally {
      blocker.close();
    }
  });

  it('a second fw start for the same app is refused while the first runs', async () => {
    const master = await startMaster(app.dir, ['--workers', '1']);
    try {
      const second = await fw(['start', app.dir, '--port', '0', '--workers', '1']);
      expect(second.exitCode).toBe(1);
      expect(second.stderr).toMatch(new RegExp(`another fw master \\(pid ${master.pid}\\) serves this app: fw stop first, or fw status`));
      expect((await fetch(`${master.url}/`)).status).toBe(200);
    } finally {
      await master.kill();
    }
  });

  it('a build error shows the file, line and code frame, and publishes nothing', async () => {
    const { readFile, writeFile: write, realpath } = await import('node:fs/promises');
    const before = await realpath(path.join(app.dir, '.fw', 'build'));
    const file = path.join(app.dir, 'src', 'routes', 'health.ts');
    const original = await readFile(file, 'utf8');
    await write(file, original.replace('ok: true,', 'ok: true,,'));
    try {
      const result = await fw(['build', app.dir]);
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toMatch(/src\/routes\/health\.ts:\d+:\d+/);
      expect(result.stderr).toMatch(/ok: true,,/);
      expect(await realpath(path.join(app.dir, '.fw', 'build'))).toBe(before);
    } finally {
      await write(file, original);
    }
  });
});
