/**
 * The README's new-user flow against a real npm registry. The workspace's packages are published
 * to a local Verdaccio (test/helpers/local-registry.ts); then, in an empty folder outside the
 * repository, exactly what a new user types: `npm create fw@latest my-app -- --yes`, `cd my-app`,
 * `npm install`, `npm test`, `npm run build`, `npm start`, `npm run dev`. fw reaches the app the
 * way it will reach a user, through `npm create` and a registry: no tarball paths, no overrides,
 * no workspace links. test/create.test.ts proves the templates against packed tarballs; this
 * proves the publishing and the README's commands.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRegistry, npxInstalled, type Published, publishWorkspace, startLocalRegistry } from './helpers/local-registry.js';
import { type RunningScript, startScript } from './helpers/npm-script.js';
import { publishableWorkspaces } from './helpers/packed-fw.js';
import { freePort } from './helpers/proxies.js';
import { repoRoot } from './helpers/app-fixture.js';
import { DEV_WAIT } from './helpers/written-suite.js';
import { answerOf, DEV_READY, edit, firstAnswer, fwVersion, get, npm, quiet, SERVING } from './helpers/written-apps.js';

/** fw's packages as a lockfile names them: `node_modules/fwjs`, `node_modules/@fwjs/core`, `node_modules/create-fw`. */
const OWN_PACKAGE = /^node_modules\/(fwjs|@fwjs\/[^/]+|create-fw)$/;

/** The names of the packages a release publishes, from their manifests. */
async function publishableNames(): Promise<string[]> {
  const names: string[] = [];
  for (const workspace of await publishableWorkspaces()) {
    names.push(JSON.parse(await readFile(path.join(repoRoot, workspace, 'package.json'), 'utf8')).name);
  }
  return names.sort();
}

/** A lockfile's `packages`: path → version, resolved URL, integrity. */
async function lockPackages(dir: string): Promise<Record<string, { version?: string; resolved?: string; integrity?: string }>> {
  return JSON.parse(await readFile(path.join(dir, 'package-lock.json'), 'utf8')).packages;
}

describe('a new user against a real registry: npm create fw@latest, then install, test, build, start and dev', () => {
  let registry: LocalRegistry | undefined;
  let published: Published = {};
  let root = '';
  let appDir = '';
  const running = new Set<RunningScript>();
  const reached = { published: false, created: false, installed: false };

  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'fw-new-user-'));
    appDir = path.join(root, 'my-app');
    registry = await startLocalRegistry();
  }, 60_000);
  afterAll(async () => {
    for (const script of running) await script.stop(0);
    await registry?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  }, 30_000);

  const need = (step: keyof typeof reached) => {
    expect(reached[step], `an earlier step failed: the app was not ${step} (see the failures above)`).toBe(true);
    if (!registry) throw new Error('the registry did not start');
    return registry;
  };

  /** One command of the flow, with the registry's userconfig: it must exit 0. Returns what it printed. */
  const run = async (cwd: string, args: string[], timeoutMs: number, env: NodeJS.ProcessEnv = {}): Promise<string> => {
    const result = await npm(cwd, args, timeoutMs, { ...registry?.npmConfig, ...env });
    const outcome = result.timedOut ? `did not finish within ${timeoutMs / 1000} s` : `exited ${result.exitCode}`;
    // Verdaccio's own lines say why a package it proxies was not found (an uplink it cannot reach).
    expect(result.exitCode, `npm ${args.join(' ')} in ${cwd} ${outcome}:\n${result.all}\n--- Verdaccio:\n${registry?.output().slice(-3000)}`).toBe(0);
    return result.all;
  };

  /** `npm start` or `npm run dev` on a free PORT, until `body` is done; what it printed is added to any failure. */
  const serve = async (script: 'start' | 'dev', readyLine: RegExp, body: (server: RunningScript) => Promise<void>) => {
    const port = await freePort();
    // One worker is enough to answer, and keeps the run light on a machine with many cores.
    const env = { ...quiet, ...registry?.npmConfig, PORT: String(port), WEB_CONCURRENCY: '1' };
    const server = await startScript(appDir, script, [], readyLine, { env, timeoutMs: 60_000 });
    running.add(server);
    try {
      expect(server.port, 'the app did not listen on PORT').toBe(port);
      await body(server);
    } catch (error) {
      if (error instanceof Error) error.message += `\n--- what npm run ${script} printed:\n${server.output().slice(-3000)}`;
      throw error;
    } finally {
      await server.stop();
      running.delete(server);
    }
    return server.output();
  };

  it('publishes every package of packages/ to the registry, which serves them from its storage alone', async () => {
    if (!registry) throw new Error('the registry did not start');
    published = await publishWorkspace(registry);
    expect(Object.keys(published).sort()).toEqual(await publishableNames());
    for (const [name, { version }] of Object.entries(published)) expect(version, name).toBe(fwVersion);
    // Nothing of the uplink's mixes in (a release of fw, someone else's create-fw): only this run's version.
    const packument = await get(`${registry.url}create-fw`);
    expect(packument.status, packument.text).toBe(200);
    expect(Object.keys(JSON.parse(packument.text).versions)).toEqual([fwVersion]);
    // fw's scope is never proxied: what was not published here does not exist.
    expect(await answerOf(`${registry.url}@fwjs/never-published`)).toMatch(/^404 /);
    reached.published = true;
  }, 150_000);

  it('npm create fw@latest my-app -- --yes scaffolds the app with the create-fw just published', async () => {
    const local = need('published');
    // npm takes the flags before `--` as its own: `--yes` reaches create-fw only after it. npm
    // installs create-fw into its npx cache, a folder named after the spec alone: a cache of this
    // run's own keeps another run at the same time (CI runs this suite on several Node.js at
    // once) and the user's own cache out of it. Only create-fw and its two dependencies go there.
    const npmCache = path.join(root, 'npm-cache');
    const printed = await run(root, ['create', 'fw@latest', 'my-app', '--', '--yes'], 120_000, { npm_config_cache: npmCache });
    expect(printed).toContain('Created my-app from the fastify template');
    expect(printed).toContain('Next steps:\n  cd my-app\n  npm install\n  npm run dev');
    const manifest = JSON.parse(await readFile(path.join(appDir, 'package.json'), 'utf8'));
    expect(manifest.name).toBe('my-app');
    expect(manifest.dependencies.fwjs).toBe(`^${fwVersion}`);
    // npm installed create-fw@latest into its npx cache from this registry, and ran that copy.
    const createFw = await npxInstalled(npmCache, 'create-fw@latest', 'create-fw');
    expect(createFw, `npm create did not install create-fw@latest from the registry: it ran a copy from elsewhere (a global or linked one?)\n${printed}`).toBeDefined();
    expect(createFw?.resolved).toBe(`${local.url}create-fw/-/create-fw-${fwVersion}.tgz`);
    expect(createFw?.integrity, 'npm create ran a create-fw other than the one just published').toBe(published['create-fw']?.integrity);
    reached.created = true;
  }, 150_000);

  it('npm install gets fwjs and every @fwjs package from the registry, as published', async () => {
    const local = need('created');
    await run(appDir, ['install'], 180_000);
    const fwManifest = JSON.parse(await readFile(path.join(appDir, 'node_modules', 'fwjs', 'package.json'), 'utf8'));
    expect(fwManifest.version).toBe(fwVersion);
    expect(existsSync(path.join(appDir, 'node_modules', 'fwjs', 'src')), 'node_modules/fwjs is not the published package').toBe(false);

    const lock = await lockPackages(appDir);
    const own = Object.entries(lock).filter(([key]) => OWN_PACKAGE.test(key));
    expect(own.map(([key]) => key.replace('node_modules/', '')).sort()).toEqual(Object.keys(published).sort());
    for (const [key, entry] of own) {
      const name = key.replace('node_modules/', '');
      expect(entry.resolved?.startsWith(`${local.url}${name}/-/`), `${key} resolved to ${entry.resolved}`).toBe(true);
      expect(entry.integrity, `${key}: not the tarball just published`).toBe(published[name]?.integrity);
    }
    // Everything else came through the registry too (proxied): the userconfig was the only config.
    const elsewhere = Object.entries(lock).filter(([key, entry]) => key !== '' && entry.resolved && !entry.resolved.startsWith(local.url));
    expect(elsewhere.map(([key, entry]) => `${key} ${entry.resolved}`)).toEqual([]);
    reached.installed = true;
  }, 200_000);

  it('npm test passes the app’s own test', async () => {
    need('installed');
    expect(await run(appDir, ['test'], 90_000)).toMatch(/Tests\s+3 passed/);
  }, 100_000);

  it('npm run build makes a release', async () => {
    need('installed');
    expect(await run(appDir, ['run', 'build'], 60_000)).toMatch(/built src\/app\.ts → \.fw\/build/);
    expect(existsSync(path.join(appDir, '.fw', 'build'))).toBe(true);
  }, 70_000);

  it('npm start serves on PORT and answers', async () => {
    need('installed');
    const printed = await serve('start', SERVING, async (server) => {
      expect(await answerOf(`${server.url}/`)).toBe('200 {"hello":"world"}');
    });
    // TERM stopped it gracefully: the master saw its worker out and said so.
    expect(printed).toMatch(/\[fw\] stopped/);
  }, 90_000);

  it('npm run dev serves on PORT, and an edit of a route goes live', async () => {
    need('installed');
    await serve('dev', DEV_READY, async (server) => {
      await firstAnswer(`${server.url}/`, '200 {"hello":"world"}');
      await edit(path.join(appDir, 'src', 'routes', 'hello.ts'), "({ hello: 'world' })", "({ hello: 'registry' })");
      await expect.poll(() => answerOf(`${server.url}/`), DEV_WAIT).toBe('200 {"hello":"registry"}');
    });
  }, 90_000);
});
