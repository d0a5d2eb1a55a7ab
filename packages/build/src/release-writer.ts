import { constants } from 'node:fs';
import { copyFile, link, mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Release } from './release.js';

/** A release already on disk: its folder and the stamp of each of its files. */
export interface WrittenRelease {
  folder: string;
  stamps: Map<string, string>;
}

/**
 * Writes a release into an empty folder. A file whose stamp equals the one in `previous` is
 * hard-linked from it (release files are never changed in place, so sharing them is safe and a
 * save in fw dev writes only what changed); the others are written, or copied from the source
 * tree (never linked to it: an edit of the source must not reach a running release).
 */
export async function writeRelease(folder: string, release: Release, previous?: WrittenRelease): Promise<WrittenRelease> {
  const folders = new Set<string>([folder]);
  for (const file of release.files) folders.add(path.dirname(path.join(folder, file.path)));
  for (const modules of release.nodeModules) folders.add(path.dirname(path.join(folder, modules.path)));
  // Parents before children, so each mkdir has little to do.
  for (const dir of [...folders].sort((a, b) => a.length - b.length)) await mkdir(dir, { recursive: true });
  await Promise.all(
    release.files.map(async (file) => {
      const target = path.join(folder, file.path);
      if (previous && !file.link && previous.stamps.get(file.path) === file.stamp) {
        const reused = await link(path.join(previous.folder, file.path), target).then(() => true, () => false);
        if (reused) return;
      }
      if (file.contents) await writeFile(target, file.contents);
      else if (file.link) await symlink(file.link, target, 'dir');
      else if (file.source) {
        // A file gone since the tree was read (an editor's temporary file) is simply not in this release.
        await copyFile(file.source, target, constants.COPYFILE_FICLONE).catch((error: NodeJS.ErrnoException) => {
          if (error.code !== 'ENOENT') throw error;
        });
      }
    }),
  );
  // Relative links: the release still finds them if the app folder is moved or mounted elsewhere.
  await Promise.all(
    release.nodeModules.map((modules) => {
      const link = path.join(folder, modules.path);
      return symlink(path.relative(path.dirname(link), modules.target), link, 'dir');
    }),
  );
  return { folder, stamps: new Map(release.files.map((file) => [file.path, file.stamp])) };
}
