import { createHash } from 'node:crypto';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { BuildContext, Message, Metafile } from 'esbuild';
import type { BuildRef } from '@fw/core';
import { appPaths, BUILD_ENTRY_FILE } from '@fw/runtime';

export type BuildOutcome =
  | { ok: true; build: BuildRef; hash: string; ms: number; externals: string[] }
  | { ok: false; ms: number; errors: string };

/** Dev builds kept on disk: the live one, and a few a crash replacement may still need. */
const KEEP_BUILDS = 4;

/**
 * esbuild's incremental context for one app. Output stays in memory (`write: false`) and each
 * good build is written to a folder of its own, so a failed rebuild can never touch the build a
 * worker runs (since esbuild 0.25 a failed rebuild in watch mode deletes its output file).
 */
export class IncrementalBuilder {
  private context: BuildContext | undefined;
  private count = 0;
  private readonly buildsDir: string;

  constructor(
    private readonly appDir: string,
    private readonly entry: string,
  ) {
    this.buildsDir = path.join(appPaths(appDir).fw, 'dev', 'builds');
  }

  async rebuild(): Promise<BuildOutcome> {
    const startedAt = performance.now();
    const esbuild = await import('esbuild');
    try {
      this.context ??= await esbuild.context({
        entryPoints: [path.resolve(this.appDir, this.entry)],
        // Only names the output: sources in the map are relative to a folder at the same depth
        // as every build folder below.
        outfile: path.join(this.buildsDir, 'next', BUILD_ENTRY_FILE),
        absWorkingDir: this.appDir,
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: `node${process.versions.node.split('.')[0]}`,
        packages: 'external',
        sourcemap: 'linked',
        write: false,
        metafile: true,
        logLevel: 'silent',
      });
      const result = await this.context.rebuild();
      const files = result.outputFiles ?? [];
      const hash = createHash('sha1');
      for (const file of files) hash.update(file.path).update(file.contents);
      const id = `dev-${++this.count}`;
      const folder = path.join(this.buildsDir, id);
      await mkdir(folder, { recursive: true });
      await Promise.all(files.map((file) => writeFile(path.join(folder, path.basename(file.path)), file.contents)));
      void this.prune(id);
      return {
        ok: true,
        build: { id, entry: path.join(folder, BUILD_ENTRY_FILE) },
        hash: hash.digest('hex'),
        ms: Math.round(performance.now() - startedAt),
        externals: externalPackages(result.metafile),
      };
    } catch (error) {
      const messages = (error as { errors?: Message[] }).errors;
      const errors = Array.isArray(messages) && messages.length > 0
        ? (await esbuild.formatMessages(messages, { kind: 'error', color: process.stdout.isTTY })).join('')
        : `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`;
      return { ok: false, ms: Math.round(performance.now() - startedAt), errors };
    }
  }

  async dispose(): Promise<void> {
    await this.context?.dispose();
    this.context = undefined;
  }

  private async prune(latest: string): Promise<void> {
    const builds = (await readdir(this.buildsDir).catch(() => [] as string[]))
      .filter((name) => /^dev-\d+$/.test(name))
      .sort((a, b) => Number(b.slice(4)) - Number(a.slice(4)));
    const old = builds.filter((name, index) => index >= KEEP_BUILDS && name !== latest);
    await Promise.all(old.map((name) => rm(path.join(this.buildsDir, name), { recursive: true, force: true })));
  }
}

/** Bare package names the bundle imports (what a spare worker should load ahead of time). */
function externalPackages(metafile: Metafile | undefined): string[] {
  const names = new Set<string>();
  for (const output of Object.values(metafile?.outputs ?? {})) {
    for (const imported of output.imports) {
      if (!imported.external || imported.path.startsWith('node:') || imported.path.startsWith('.')) continue;
      const parts = imported.path.split('/');
      names.add(imported.path.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!);
    }
  }
  return [...names].sort();
}
