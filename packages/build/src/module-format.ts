import { readFileSync } from 'node:fs';
import path from 'node:path';

export type ModuleFormat = 'esm' | 'cjs';

/**
 * Node's own rules for a module's format: `.mts`/`.mjs` are ES modules, `.cts`/`.cjs` CommonJS,
 * anything else follows `"type"` in the nearest package.json (CommonJS without one). The answers
 * for folders are cached for one build.
 */
export class ModuleFormats {
  private readonly typeOfFolder = new Map<string, ModuleFormat>();

  of(file: string): ModuleFormat {
    if (/\.m[jt]s$/.test(file)) return 'esm';
    if (/\.c[jt]s$/.test(file)) return 'cjs';
    return this.packageType(path.dirname(file));
  }

  private packageType(dir: string): ModuleFormat {
    const known = this.typeOfFolder.get(dir);
    if (known) return known;
    let format: ModuleFormat;
    const manifest = readManifest(path.join(dir, 'package.json'));
    if (manifest !== undefined) format = manifest.type === 'module' ? 'esm' : 'cjs';
    else {
      const parent = path.dirname(dir);
      format = parent === dir ? 'cjs' : this.packageType(parent);
    }
    this.typeOfFolder.set(dir, format);
    return format;
  }
}

function readManifest(file: string): { type?: unknown } | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    return JSON.parse(text) as { type?: unknown };
  } catch {
    // Node refuses a broken package.json too; the build reports it where it matters.
    return {};
  }
}

/** The file name a transpiled module gets in the release: `.ts` → `.js`, `.mts` → `.mjs`, `.cts` → `.cjs`. */
export function releaseName(file: string): string {
  return file.replace(/\.(?:tsx?|jsx)$/, '.js').replace(/\.mts$/, '.mjs').replace(/\.cts$/, '.cjs');
}
