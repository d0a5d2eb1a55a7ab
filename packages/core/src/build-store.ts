import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, lstat, mkdir, readdir, readFile, realpath, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { appPaths, RELEASE_MANIFEST_FILE, type ReleaseManifest } from './app-paths.js';
import { NoBuildError } from './errors.js';
import type { BuildRef } from './spawner.js';

/**
 * Releases kept besides the latest, so a generation still running an older one can replace a
 * crashed worker. The same for `fw build` and `fw dev`.
 */
export const KEEP_BUILDS = 5;

/** Missing is "run fw build"; anything else (EACCES, ELOOP, EIO…) is reported as it is, with its path. */
function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function unreadableBuild(error: unknown): NoBuildError {
  return new NoBuildError(`cannot read the build: ${(error as Error).message}; check its permissions, or run "fw build" again`, true);
}

/**
 * The latest complete build, pinned: the real folder behind `.fw/build`, so a build published
 * later never changes what a running generation loads.
 */
export async function latestBuild(appDir: string): Promise<BuildRef> {
  const { build } = appPaths(appDir);
  let folder: string;
  try {
    folder = await realpath(build);
  } catch (error) {
    if (!isMissing(error)) throw unreadableBuild(error);
    throw new NoBuildError(`no build in ${build}: run "fw build" first`);
  }
  return readRelease(folder);
}

/** The build a release folder holds, from its manifest. */
export async function readRelease(folder: string): Promise<BuildRef> {
  let manifest: Partial<ReleaseManifest>;
  try {
    manifest = JSON.parse(await readFile(path.join(folder, RELEASE_MANIFEST_FILE), 'utf8')) as Partial<ReleaseManifest>;
  } catch (error) {
    if (error instanceof SyntaxError) throw new NoBuildError(`the build in ${folder} has a damaged ${RELEASE_MANIFEST_FILE}: run "fw build" again`);
    if (!isMissing(error)) throw unreadableBuild(error);
    throw new NoBuildError(`the build in ${folder} has no ${RELEASE_MANIFEST_FILE}: run "fw build" again`);
  }
  if (typeof manifest.entry !== 'string') throw new NoBuildError(`the build in ${folder} names no entry: run "fw build" again`);
  const entry = path.join(folder, manifest.entry);
  try {
    // Readable, not only there: a worker must load it.
    await access(entry, constants.R_OK);
  } catch (error) {
    if (!isMissing(error)) throw unreadableBuild(error);
    throw new NoBuildError(`the build in ${folder} has no ${manifest.entry}: run "fw build" again`);
  }
  return { id: path.basename(folder), entry, ...(typeof manifest.source === 'string' ? { source: manifest.source } : {}) };
}

/** False when there is no usable build yet; a build that is there but cannot be read is an error. */
export async function hasBuild(appDir: string): Promise<boolean> {
  return latestBuild(appDir).then(
    () => true,
    (error: unknown) => {
      if (error instanceof NoBuildError && error.unreadable) throw error;
      return false;
    },
  );
}

/** Fills a release folder and says which module in it is the entry (relative to the folder). */
export type ReleaseWriter = (folder: string, previous: string | undefined) => Promise<ReleaseManifest>;

/**
 * Publishes a build atomically: `write` fills a fresh folder that no reader knows of (and is
 * told the previous release, whose unchanged files it may link); the folder gets its final name,
 * then the `.fw/build` symlink is replaced by rename(2). A reader sees the old build or the new
 * one, never half of one. A failed `write` leaves nothing behind.
 */
export async function publishBuild(appDir: string, write: ReleaseWriter): Promise<BuildRef> {
  const paths = appPaths(appDir);
  await mkdir(paths.builds, { recursive: true });
  const id = newBuildId();
  const staging = path.join(paths.builds, `.${id}.partial`);
  const folder = path.join(paths.builds, id);
  const previous = await realpath(paths.build).catch(() => undefined);
  let manifest: ReleaseManifest;
  try {
    await mkdir(staging);
    manifest = await write(staging, previous);
    await writeFile(path.join(staging, RELEASE_MANIFEST_FILE), `${JSON.stringify(manifest)}\n`, { flag: 'wx' });
    await rename(staging, folder);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
  const link = path.join(paths.fw, `.build-${id}.link`);
  await symlink(path.relative(paths.fw, folder), link);
  await replaceWithLink(link, paths.build);
  await pruneBuilds(paths.builds, [id, ...(await servingBuilds(paths.fw))]);
  return { id, entry: path.join(folder, manifest.entry) };
}

async function replaceWithLink(link: string, target: string): Promise<void> {
  const existing = await lstat(target).catch(() => null);
  if (existing && !existing.isSymbolicLink()) {
    // A plain folder (an older layout, or made by hand): rename(2) cannot replace it with a link.
    await rm(target, { recursive: true, force: true });
  }
  await rename(link, target);
}

/**
 * A master marks the release its generation serves (`.fw/serving`, `.fw/serving-<instance>`), so
 * builds published meanwhile never prune it: a crash replacement loads it again, and it may read
 * its templates and data files while it runs.
 */
export async function markServing(appDir: string, build: BuildRef, instance?: string): Promise<void> {
  const { fw, builds } = appPaths(appDir);
  const name = instance ? `serving-${instance}` : 'serving';
  const staging = path.join(fw, `.${name}-${process.pid}.link`);
  await rm(staging, { force: true });
  await symlink(path.relative(fw, path.join(builds, build.id)), staging);
  await rename(staging, path.join(fw, name));
}

/** The release folders masters mark as serving. */
async function servingBuilds(fwDir: string): Promise<string[]> {
  const names = (await readdir(fwDir).catch(() => [] as string[])).filter((name) => /^serving(?:-[\w-]+)?$/.test(name));
  const targets = await Promise.all(names.map((name) => realpath(path.join(fwDir, name)).catch(() => null)));
  return targets.filter((target): target is string => target !== null).map((target) => path.basename(target));
}

/** Sortable by time, unique across concurrent builds. */
function newBuildId(): string {
  const time = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${time}-${randomBytes(3).toString('hex')}`;
}

/**
 * Removes all but the newest KEEP_BUILDS releases in `buildsDir` (by modification time), never
 * one named in `keep`. Folders being written (dot-names) are left alone.
 */
export async function pruneBuilds(buildsDir: string, keep: readonly string[]): Promise<void> {
  const names = (await readdir(buildsDir).catch(() => [] as string[])).filter((name) => !name.startsWith('.'));
  const dated = await Promise.all(
    names.map(async (name) => ({ name, time: (await stat(path.join(buildsDir, name)).catch(() => null))?.mtimeMs ?? 0 })),
  );
  const newestFirst = dated.sort((a, b) => b.time - a.time || b.name.localeCompare(a.name)).map((entry) => entry.name);
  const kept = new Set([...keep, ...newestFirst.slice(0, KEEP_BUILDS)]);
  await Promise.all(names.filter((name) => !kept.has(name)).map((name) => rm(path.join(buildsDir, name), { recursive: true, force: true })));
}
