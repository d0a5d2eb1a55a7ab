import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { BuildError, MissingEntryError, ReleaseBuilder, writeRelease, type WrittenRelease } from '@fwjs/build';
import { appPaths, pruneBuilds, type BuildRef } from '@fwjs/core';

export type BuildOutcome =
  | {
      ok: true;
      build: BuildRef;
      /** Equal for equal releases: a save that changed nothing rolls nothing out. */
      hash: string;
      ms: number;
      /** Installed packages the app imports: what the next warm spare loads. */
      externals: string[];
      /** The app's folder and the linked workspace packages it imports: what to watch. */
      roots: string[];
    }
  | { ok: false; ms: number; errors: string };

/**
 * fw dev's releases: the same builder as `fw build` (kept between saves, so a save builds only the
 * modules it changed), each good build written to a folder of its own under
 * `.fw/dev/builds/`, its unchanged files hard-linked from the one before. A failed build writes
 * nothing, so the release a worker runs is never touched.
 */
export class DevReleases {
  private readonly builder: ReleaseBuilder;
  private readonly buildsDir: string;
  private count = 0;
  private last: { written: WrittenRelease; hash: string; build: BuildRef } | undefined;
  /** The release the worker serves: never pruned while it does (saves that fail to boot go on). */
  private servingId: string | undefined;

  constructor(appDir: string, entry: string) {
    this.builder = new ReleaseBuilder(appDir, entry, { linkStaticFolders: true, releasesDir: appPaths(appDir).devBuilds });
    this.buildsDir = appPaths(appDir).devBuilds;
  }

  async rebuild(): Promise<BuildOutcome> {
    const startedAt = performance.now();
    const ms = () => Math.round(performance.now() - startedAt);
    try {
      const release = await this.builder.build();
      const done = { ok: true as const, hash: release.hash, externals: release.packages, roots: release.roots };
      // Nothing changed (a save of the same text): the release on disk is this one.
      if (this.last?.hash === release.hash) return { ...done, build: this.last.build, ms: ms() };
      // Past the folders an earlier fw dev left: a name is never written twice.
      this.count ||= await highestDevBuild(this.buildsDir);
      const id = `dev-${++this.count}`;
      const folder = path.join(this.buildsDir, id);
      const written = await writeRelease(folder, release, this.last?.written);
      const build = { id, entry: path.join(folder, release.entry), source: release.source };
      this.last = { written, hash: release.hash, build };
      void pruneBuilds(this.buildsDir, this.servingId ? [id, this.servingId] : [id]);
      return { ...done, build, ms: ms() };
    } catch (error) {
      if (error instanceof BuildError) return { ok: false, ms: ms(), errors: error.formatted };
      if (error instanceof MissingEntryError) return { ok: false, ms: ms(), errors: `${error.message}\n` };
      return { ok: false, ms: ms(), errors: `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n` };
    }
  }

  /** The rollout of this build succeeded: keep it until another one serves. */
  serving(build: BuildRef): void {
    this.servingId = build.id;
  }

  async dispose(): Promise<void> {
    await this.builder.dispose();
  }
}

async function highestDevBuild(buildsDir: string): Promise<number> {
  const names = await readdir(buildsDir).catch(() => [] as string[]);
  return Math.max(0, ...names.map((name) => Number(/^dev-(\d+)$/.exec(name)?.[1] ?? 0)));
}
