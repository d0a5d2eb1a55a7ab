import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** Where people keep a server's entry, in the order fw looks (the first that exists runs). */
const NAMES = ['src/app', 'src/server', 'src/main', 'src/index'];
const EXTENSIONS = ['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs'];

/**
 * The app's entry when none is set: `src/app.ts`, `src/server.ts`, `src/main.ts`, `src/index.ts`
 * (each also as .mts, .cts, .js, .mjs, .cjs), then package.json's `main`. `src/app.ts` when there
 * is none, so the error names the usual place.
 */
export function findEntry(appDir: string): string {
  for (const name of NAMES) {
    for (const extension of EXTENSIONS) {
      if (existsSync(path.join(appDir, name + extension))) return name + extension;
    }
  }
  const main = packageMain(appDir);
  if (main && existsSync(path.join(appDir, main))) return path.normalize(main);
  return 'src/app.ts';
}

function packageMain(appDir: string): string | undefined {
  try {
    const manifest = JSON.parse(readFileSync(path.join(appDir, 'package.json'), 'utf8')) as { main?: unknown };
    return typeof manifest.main === 'string' ? manifest.main : undefined;
  } catch {
    return undefined;
  }
}
