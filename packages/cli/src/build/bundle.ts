import { existsSync } from 'node:fs';
import path from 'node:path';
import type { BuildFailure, Message } from 'esbuild';
import type { BuildRef } from '@fw/core';
import { BUILD_ENTRY_FILE, publishBuild } from '@fw/runtime';
import { UsageError } from '../usage-error.js';

export class BuildError extends Error {
  override name = 'BuildError';
  constructor(readonly formatted: string) {
    super(formatted);
  }
}

export interface BuildResult {
  build: BuildRef;
  ms: number;
  warnings: string;
}

/**
 * Bundles the app's entry with esbuild into a new build folder and publishes it atomically.
 * Dependencies stay external (resolved from the app's node_modules at run time); source maps
 * are written so a worker's stack points at `.ts` lines.
 */
export async function buildApp(appDir: string, entry: string): Promise<BuildResult> {
  const entryPath = path.resolve(appDir, entry);
  if (!existsSync(entryPath)) {
    throw new UsageError(`entry ${entry} not found in ${appDir}: create it, or set "entry" in fw.config.ts or --entry`);
  }
  const esbuild = await import('esbuild');
  const startedAt = performance.now();
  let warnings: Message[] = [];
  try {
    const build = await publishBuild(appDir, async (folder) => {
      const result = await esbuild.build({
        entryPoints: [entryPath],
        outfile: path.join(folder, BUILD_ENTRY_FILE),
        absWorkingDir: appDir,
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: `node${process.versions.node.split('.')[0]}`,
        packages: 'external',
        sourcemap: true,
        logLevel: 'silent',
      });
      warnings = result.warnings;
    });
    const formattedWarnings = warnings.length
      ? (await esbuild.formatMessages(warnings, { kind: 'warning', color: process.stderr.isTTY })).join('')
      : '';
    return { build, ms: Math.round(performance.now() - startedAt), warnings: formattedWarnings };
  } catch (error) {
    const failure = error as Partial<BuildFailure>;
    if (Array.isArray(failure.errors) && failure.errors.length > 0) {
      const formatted = await esbuild.formatMessages(failure.errors, { kind: 'error', color: process.stderr.isTTY });
      throw new BuildError(formatted.join(''));
    }
    throw error;
  }
}
