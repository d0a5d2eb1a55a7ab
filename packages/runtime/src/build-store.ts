import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, realpath, rename, rm, stat, symlink } from 'node:fs/promises';
import path from 'node:path';
import type { BuildRef } from '@fw/core';
import { appPaths, BUILD_ENTRY_FILE } from './app-paths.js';

/** Builds kept besides the latest, so a generation still running an older one can replace a crashed worker. */
const KEEP_BUILDS = 5;

export class NoBuildError extends Error {
  override name = 'NoBuildError';
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
  } catch {
    throw new NoBuildError(`no build in ${build}: run "fw build" first`);
  }
  const entry = path.join(folder, BUILD_ENTRY_FILE);
  try {
    await stat(entry);
  } catch {
    throw new NoBuildError(`the build in ${folder} has no ${BUILD_ENTRY_FILE}: run "fw build" again`);
  }
  return { id: path.basename(folder), entry };
}

export async function hasBuild(appDir: string): Promise<boolean> {
  return latestBuild(appDir).then(() => true, () => false);
}

/**
 * Publishes a build atomically: `write` fills a fresh folder that no reader knows of; the folder
 * gets its final name, then the `.fw/build` symlink is replaced by rename(2). A reader sees the old
 * build or the new one, never half of one. A failed `write` leaves nothing behind.
 */
export async function publishBuild(appDir: string, write: (folder: string) => Promise<void>): Promise<BuildRef> {
  const paths = appPaths(appDir);
  await mkdir(paths.builds, { recursive: true });
  const id = newBuildId();
  const staging = path.join(paths.builds, `.${id}.partial`);
  const folder = path.join(paths.builds, id);
  try {
    await mkdir(staging);
    await write(staging);
    await rename(staging, folder);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
  const link = path.join(paths.fw, `.build-${id}.link`);
  await symlink(path.relative(paths.fw, folder), link);
  await replaceWithLink(link, paths.build);
  await pruneBuilds(paths.builds, id);
  return { id, entry: path.join(folder, BUILD_ENTRY_FILE) };
}

async function replaceWithLink(link: string, target: string): Promise<void> {
  const existing = await lstat(target).catch(() => null);
  if (existing && !existing.isSymbolicLink()) {
    // A plain folder (an older layout, or made by hand): rename(2) cannot replace it with a link.
    await rm(target, { recursive: true, force: true });
  }
  await rename(link, target);
}

/** Sortable by time, unique across concurrent builds. */
function newBuildId(): string {
  const time = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${time}-${randomBytes(3).toString('hex')}`;
}

async function pruneBuilds(buildsDir: string, latest: string): Promise<void> {
  const names = (await readdir(buildsDir)).filter((name) => !name.startsWith('.'));
  const dated = await Promise.all(names.map(async (name) => ({ name, time: (await stat(path.join(buildsDir, name))).mtimeMs })));
  const newestFirst = dated.sort((a, b) => b.time - a.time || b.name.localeCompare(a.name)).map((entry) => entry.name);
  const keep = new Set([latest, ...newestFirst.slice(0, KEEP_BUILDS)]);
  await Promise.all(names.filter((name) => !keep.has(name)).map((name) => rm(path.join(buildsDir, name), { recursive: true, force: true })));
}
