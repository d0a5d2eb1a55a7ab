/**
 * The frame of the tests that run apps written outside the repository with fw installed from the
 * workspace's packed tarballs (test/apps-as-written.test.ts, test/listen-entries.test.ts): the
 * workspace packed once per file, one temp folder per app, installs checked to come from the
 * tarballs, fw build / fw reload that must succeed, and a kept-alive load around a reload.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { type Load, type LoadStats, startLoad } from './load-client.js';
import { packWorkspace, type Tarballs, useTarballs } from './packed-fw.js';
import { DEV_READY, fwVersion, installedFw, npm, type RunningFw, runFw, SERVING, startFw } from './written-apps.js';

/** `fw start` on a free port with 2 workers, and `fw dev` on a free port. */
export const START = ['start', '--port', '0', '--workers', '2'];
export const DEV = ['dev', '--port', '0'];

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
