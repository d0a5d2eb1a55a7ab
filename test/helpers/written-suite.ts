/**
 * The frame of the tests that run apps written outside the repository with fw installed from the
 * workspace's packed tarballs (test/apps-as-written.test.ts, test/listen-entries.test.ts): the
 * workspace packed once per file, one temp folder per app, installs checked to come from the
 * tarballs, fw build / fw reload that must succeed, a kept-alive load around a reload, and the
 * tests every app has: written and installed, type-checked, an edit rolled out by fw build +
 * fw reload, an edit going live under fw dev.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Load, type LoadStats, startLoad } from './load-client.js';
import { packWorkspace, type Tarballs, useTarballs } from './packed-fw.js';
import { answerOf, DEV_READY, fwVersion, installedFw, npm, type RunningFw, runFw, SERVING, startFw, typecheck } from './written-apps.js';

/** `fw start` on a free port with 2 workers, and `fw dev` on a free port. */
export const START = ['start', '--port', '0', '--workers', '2'];
export const DEV = ['dev', '--port', '0'];

/** How long a change may take to answer under fw dev. */
export const DEV_WAIT = { timeout: 30_000, interval: 100 };

/** The workspace, packed once for the test file that calls this (in its beforeAll). */
export interface PackedFw {
  /** The tarballs; throws with the reason when the workspace could not be packed. */
  tarballs(): Tarballs;
}

/** Packs the workspace before the file's tests (a failure is reported by each install) and removes the tarballs after. */
export function packedFw(prefix = 'fw-written-packs-'): PackedFw {
  let packs = '';
  let tarballs: Tarballs | undefined;
  let packError: unknown;
  beforeAll(async () => {
    packs = await mkdtemp(path.join(tmpdir(), prefix));
    try {
      tarballs = await packWorkspace(packs);
    } catch (error) {
      packError = error;
    }
  }, 150_000);
  afterAll(async () => {
    if (packs) await rm(packs, { recursive: true, force: true });
  });
  return {
    tarballs() {
      if (!tarballs) throw new Error(`the workspace could not be packed, so nothing can be installed: ${String(packError)}`);
      return tarballs;
    },
  };
}

/** One app's temp folder, flags and running fw processes; all of it cleaned up after its describe. */
export function appSuite(name: string) {
  const suite = {
    root: '',
    installed: false,
    running: new Set<RunningFw>(),
    /** Fails the test with a clear message when the app could not be installed. */
    needInstalled() {
      expect(suite.installed, `${name}: the app was not made or installed (see the failures above)`).toBe(true);
    },
    /** Runs `body` with a started fw (`fw start` or `fw dev`), and stops it whatever happens. */
    async run(cwd: string, args: string[], body: (fw: RunningFw) => Promise<void>) {
      const fw = await startFw(cwd, args, args[0] === 'dev' ? DEV_READY : SERVING);
      suite.running.add(fw);
      try {
        await body(fw);
      } catch (error) {
        if (error instanceof Error) error.message += `\n--- the last of what fw ${args[0]} printed:\n${fw.output().slice(-3000)}`;
        throw error;
      } finally {
        await fw.stop();
        suite.running.delete(fw);
      }
    },
  };
  beforeAll(async () => {
    suite.root = await mkdtemp(path.join(tmpdir(), `fw-written-${name}-`));
  });
  afterAll(async () => {
    for (const fw of suite.running) await fw.stop(0);
    if (suite.root) await rm(suite.root, { recursive: true, force: true });
  });
  return suite;
}

export type AppSuite = ReturnType<typeof appSuite>;

/** Points the app at the tarballs and runs `npm install` in it; checks fw came from the tarball. */
export async function installFw(dir: string, packed: PackedFw): Promise<void> {
  await useTarballs(dir, packed.tarballs());
  const result = await npm(dir, ['install', '--no-audit', '--no-fund'], 240_000);
  expect(result.exitCode, result.all).toBe(0);
  const fwDir = path.dirname(path.dirname(installedFw(dir)));
  expect(JSON.parse(await readFile(path.join(fwDir, 'package.json'), 'utf8')).version).toBe(fwVersion);
  // Installed from the tarball: a copy, never a link back into the workspace.
  expect(existsSync(path.join(fwDir, 'src')), `${fwDir} is not the packed fw`).toBe(false);
}

/** `fw build` (with `args`, e.g. `--entry`), which must succeed; returns what it printed. */
export async function build(cwd: string, args: string[] = []): Promise<string> {
  const built = await runFw(cwd, ['build', ...args]);
  expect(built.exitCode, `fw build:\n${built.all}`).toBe(0);
  return built.all;
}

/** `fw reload`, which must exit 0; returns what it printed. */
export async function reload(cwd: string): Promise<string> {
  const reloaded = await runFw(cwd, ['reload']);
  expect(reloaded.exitCode, `fw reload:\n${reloaded.all}`).toBe(0);
  return reloaded.all;
}

/**
 * Runs `during` under a kept-alive load on `loadPath` that never retries (8 connections unless
 * told; `version` reads an answer's version, JSON `version` by default); returns what the load saw.
 */
export async function underLoad(
  url: string,
  loadPath: string,
  during: (load: Load) => Promise<void>,
  options: { connections?: number; version?: (body: string) => string } = {},
): Promise<LoadStats> {
  const load = startLoad(url, { connections: options.connections ?? 8, path: loadPath, ...(options.version ? { version: options.version } : {}) });
  try {
    await during(load);
  } finally {
    await load.stop();
  }
  return load.stats();
}

/** No request of the load failed, and each of `versions` answered some of them. */
export function expectNoneFailed(stats: LoadStats, versions: readonly string[]): void {
  expect(stats.failed, JSON.stringify(stats)).toBe(0);
  for (const version of versions) expect(stats.versions[version], `${version}: ${JSON.stringify(stats)}`).toBeGreaterThan(0);
}

/**
 * Declares the tests an app's describe starts with: the app is written (`write`, which may check
 * what it wrote) and installed with fw from the tarballs in `dir`, which marks the suite installed;
 * then, unless `typecheck` is false, each of its TypeScript projects (`dir` unless told) type-checks
 * with the TypeScript it installed: a fixture that is wrong fails there, not as a puzzle in fw.
 */
export function itIsWrittenAndInstalled(
  suite: AppSuite,
  packed: PackedFw,
  app: {
    dir: () => string;
    write: () => Promise<unknown>;
    /** Checks of the install itself (where npm put what). */
    installed?: () => void;
    title?: string;
    typecheck?: false | (() => string[]);
  },
): void {
  it(app.title ?? 'is written and installed with fw from the tarballs', async () => {
    await app.write();
    await installFw(app.dir(), packed);
    app.installed?.();
    suite.installed = true;
  }, 260_000);
  if (app.typecheck === false) return;
  const projects = app.typecheck ?? (() => [app.dir()]);
  it('type-checks with its own TypeScript', async () => {
    suite.needInstalled();
    for (const project of projects()) {
      const result = await typecheck(project);
      expect(result.exitCode, `${project}:\n${result.all}`).toBe(0);
    }
  }, 120_000);
}

/** An edit of an app's sources, and what GET `path` answers (`status body`) before it goes live and after. */
export interface SourceEdit {
  path: string;
  change(): Promise<unknown>;
  before: string;
  after: string;
}

/**
 * Rolls `edit` out to the `fw start` serving `cwd`, as a deploy does: GET `path` answers `before`,
 * and still does once the sources are edited (the running app reads nothing of them) and once
 * `fw build` has built them (a build alone changes nothing that runs); once `fw reload` returns,
 * it answers `after`. Returns what fw reload printed.
 */
export async function rollOut(server: RunningFw, cwd: string, edit: SourceEdit): Promise<string> {
  const answer = () => answerOf(`${server.url}${edit.path}`);
  expect(await answer(), `GET ${edit.path} before the edit`).toBe(edit.before);
  await edit.change();
  expect(await answer(), 'the running generation read the edited source tree').toBe(edit.before);
  await build(cwd);
  expect(await answer(), 'a build alone changed what runs').toBe(edit.before);
  const reloaded = await reload(cwd);
  expect(await answer(), `after fw reload:\n${reloaded}`).toBe(edit.after);
  return reloaded;
}

/**
 * Declares the test of an app's deploy: fw build (whose output must name `built`, if given) and
 * fw start, `serving` checks of what it serves, `edit` rolled out by fw build + fw reload (see
 * rollOut), then `afterwards` checks. With `load`, the rollout runs under a kept-alive load on
 * `load.path` that never retries, which must see the version before the edit, then the one after,
 * and no failed request.
 */
export function itRollsOut(
  suite: AppSuite,
  title: string,
  app: {
    dir: () => string;
    built?: string;
    serving?: (server: RunningFw) => Promise<void>;
    edit: SourceEdit;
    load?: { path?: string; versions: [before: string, after: string] };
    afterwards?: (server: RunningFw) => Promise<void>;
  },
): void {
  it(title, async () => {
    suite.needInstalled();
    const built = await build(app.dir());
    if (app.built) expect(built).toContain(app.built);
    await suite.run(app.dir(), START, async (server) => {
      await app.serving?.(server);
      const load = app.load;
      if (!load) await rollOut(server, app.dir(), app.edit);
      else {
        const [before, after] = load.versions;
        const stats = await underLoad(server.url, load.path ?? '/', async (running) => {
          await running.waitForVersion(before, 10_000);
          await rollOut(server, app.dir(), app.edit);
          await running.waitForVersion(after, 10_000);
        });
        expectNoneFailed(stats, load.versions);
      }
      await app.afterwards?.(server);
    });
  }, 180_000);
}

/** Under fw dev: `change` edits a source, and GET `urlPath` comes to answer `after` (`status body`) within DEV_WAIT. */
export async function goesLive(dev: RunningFw, urlPath: string, change: () => Promise<unknown>, after: string): Promise<void> {
  await change();
  await expect.poll(() => answerOf(`${dev.url}${urlPath}`), DEV_WAIT).toBe(after);
}
