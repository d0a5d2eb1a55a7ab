import { createHash } from 'node:crypto';

/** One file of a release, at its path relative to the release folder. */
export interface ReleaseFile {
  path: string;
  /** Made by the build (a transpiled module, its source map inline)… */
  contents?: Uint8Array;
  /** …or copied from the source tree… */
  source?: string;
  /** …or, for a folder without modules in fw dev, a link to the source folder. */
  link?: string;
  /** Equal stamps mean equal files: the content hash, or a copied file's size and times. */
  stamp: string;
}

/** A release as the builder made it, before it is written to a folder. */
export interface Release {
  /** The source folder the release mirrors: the app's, or the common ancestor of it and its linked packages. */
  root: string;
  /** The module a worker imports, relative to the release folder. */
  entry: string;
  /** The source file of the entry, relative to the app's folder (for people: `src/server.ts`). */
  source: string;
  files: ReleaseFile[];
  /** node_modules folders of the source tree, relative to the release folder, and where they really are. */
  nodeModules: { path: string; target: string }[];
  /** Changes whenever any file of the release would change. */
  hash: string;
  /** The app's folder and the linked workspace packages its modules import: what fw dev watches. */
  roots: string[];
  /** Installed packages the app imports by name: what a warm spare loads ahead of time. */
  packages: string[];
  /** esbuild's warnings, formatted. */
  warnings: string;
}

export function releaseHash(files: readonly ReleaseFile[], entry: string): string {
  const hash = createHash('sha1').update(entry);
  for (const file of files) hash.update('\0').update(file.path).update('\0').update(file.stamp);
  return hash.digest('hex');
}
