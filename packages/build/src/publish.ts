import { publishBuild, type BuildRef } from '@fwjs/core';
import { ReleaseBuilder } from './release-builder.js';
import { writeRelease } from './release-writer.js';

export interface PublishedRelease {
  build: BuildRef;
  ms: number;
  /** esbuild's warnings, formatted ('' when there were none). */
  warnings: string;
  /** How many files the release holds. */
  files: number;
}

/**
 * `fw build`: one release of the app, published atomically as `.fw/build`. A failed build
 * (BuildError, MissingEntryError) publishes nothing and leaves the previous release in place.
 */
export async function publishRelease(appDir: string, entry: string): Promise<PublishedRelease> {
  const startedAt = performance.now();
  const builder = new ReleaseBuilder(appDir, entry);
  try {
    const release = await builder.build();
    const build = await publishBuild(appDir, async (folder) => {
      await writeRelease(folder, release);
      return { entry: release.entry, source: release.source };
    });
    return { build, ms: Math.round(performance.now() - startedAt), warnings: release.warnings, files: release.files.length };
  } finally {
    await builder.dispose();
  }
}
