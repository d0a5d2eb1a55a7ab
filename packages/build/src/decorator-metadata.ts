import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Plugin } from 'esbuild';
import { hideComputedImports } from './computed-imports.js';
import { emitsMetadata, type TsconfigLookup } from './tsconfig-lookup.js';

/**
 * esbuild cannot emit `design:paramtypes` and the other decorator metadata that constructor
 * injection (Nest, tsyringe, TypeORM) reads; SWC can, as Nest's own CLI uses it. For files whose
 * tsconfig asks for it, SWC turns TypeScript into JavaScript with the metadata (imports kept as
 * imports), and esbuild goes on from there like for any other module. Results are cached by the
 * file's text, so a rebuild transforms only what changed.
 */
export function decoratorMetadataPlugin(tsconfigs: TsconfigLookup): Plugin {
  const cache = new Map<string, { source: string; code: string }>();
  return {
    name: 'fw-decorator-metadata',
    setup(build) {
      build.onLoad({ filter: /\.[cm]?tsx?$/ }, async (args) => {
        if (args.path.endsWith('.d.ts')) return undefined;
        const options = tsconfigs.optionsFor(path.dirname(args.path));
        if (!emitsMetadata(options)) return undefined;
        const source = await readFile(args.path, 'utf8');
        const cached = cache.get(args.path);
        if (cached?.source === source) return { contents: cached.code, loader: 'js', resolveDir: path.dirname(args.path) };
        const swc = await import('@swc/core');
        const output = await swc.transform(source, {
          filename: args.path,
          sourceMaps: 'inline',
          swcrc: false,
          configFile: false,
          jsc: {
            parser: { syntax: 'typescript', tsx: args.path.endsWith('x'), decorators: true },
            target: 'es2022',
            keepClassNames: true,
            transform: {
              legacyDecorator: true,
              decoratorMetadata: true,
              // TypeScript's own default: true from ES2022 on.
              useDefineForClassFields: options.useDefineForClassFields ?? /^es(?:202[2-9]|next)$/i.test(options.target ?? ''),
            },
          },
          module: { type: 'es6' },
        });
        const code = hideComputedImports(output.code);
        cache.set(args.path, { source, code });
        return { contents: code, loader: 'js', resolveDir: path.dirname(args.path) };
      });
    },
  };
}
