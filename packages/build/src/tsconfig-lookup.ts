import { createPathsMatcher, getTsconfig, type TsConfigJsonResolved, type TsConfigResult } from 'get-tsconfig';

export type CompilerOptions = NonNullable<TsConfigJsonResolved['compilerOptions']>;

/**
 * The compiler options of the tsconfig.json that governs `dir` (with its `extends` followed),
 * cached per folder for one builder.
 */
export class TsconfigLookup {
  private readonly byFolder = new Map<string, TsConfigResult | null>();
  private readonly matchers = new Map<string, ((specifier: string) => string[]) | null>();

  private configFor(dir: string): TsConfigResult | null {
    let found = this.byFolder.get(dir);
    if (found === undefined) {
      found = getTsconfig(dir);
      this.byFolder.set(dir, found);
    }
    return found;
  }

  optionsFor(dir: string): CompilerOptions {
    return this.configFor(dir)?.config.compilerOptions ?? {};
  }

  /** True when `paths` (or `baseUrl`) in the tsconfig that governs `dir` may map `specifier`. */
  hasPathAlias(dir: string, specifier: string): boolean {
    let matcher = this.matchers.get(dir);
    if (matcher === undefined) {
      const config = this.configFor(dir);
      matcher = config ? createPathsMatcher(config) : null;
      this.matchers.set(dir, matcher);
    }
    // `paths` or `baseUrl` may map a bare name to the app's own file before node_modules does.
    return matcher !== null && matcher(specifier).length > 0;
  }

  /** True when some root's tsconfig asks for decorator metadata: only then is SWC loaded. */
  wantsMetadata(roots: readonly string[]): boolean {
    return roots.some((root) => emitsMetadata(this.optionsFor(root)));
  }
}

export function emitsMetadata(options: CompilerOptions): boolean {
  return options.experimentalDecorators === true && options.emitDecoratorMetadata === true;
}
