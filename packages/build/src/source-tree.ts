import type { Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';

/** Folders that are never part of a release: installed packages, fw's own state, VCS and tool caches. */
const IGNORED_FOLDERS = new Set(['node_modules', '.fw', '.git', '.hg', '.svn', '.turbo']);

/**
 * Tests are never run from a release, and a copy in `.fw/` would be found and run again by the
 * app's test runner (vitest, jest and `node --test` look everywhere but node_modules): test files,
 * `__tests__` folders, and a root's own `test`/`tests` folder stay out.
 */
const TEST_FILE = /\.(?:test|spec)\.[cm]?[jt]sx?$/;
const TEST_FOLDER = '__tests__';
const ROOT_TEST_FOLDERS = new Set(['test', 'tests']);

/** fw's own settings, read by the fw command, never by the app. */
const FW_CONFIG = /^fw\.config\.[cm]?[jt]s$/;

/** Sources esbuild (or SWC) turns into JavaScript; everything else is copied as it is. */
const TRANSPILED = /\.(?:[cm]?tsx?|jsx)$/;
/** Type declarations: nothing at run time. */
const DECLARATION = /\.d\.[cm]?ts$/;

export interface SourceTree {
  /** Absolute paths of the files to transpile. */
  scripts: string[];
  /** Absolute paths of every other file (JavaScript, JSON, templates, public/…): copied. */
  assets: string[];
}

export function isTranspiled(file: string): boolean {
  return TRANSPILED.test(file) && !DECLARATION.test(file);
}

/**
 * Every file of the given roots (the app's folder first, then its linked workspace packages) that belongs
 * in a release. Symbolic links to folders are not followed (they may loop, and what they reach is
 * not the app's own layout).
 */
export async function readSourceTree(roots: readonly string[]): Promise<SourceTree> {
  const tree: SourceTree = { scripts: [], assets: [] };
  const seen = new Set<string>();
  const visit = async (dir: string): Promise<void> => {
    if (seen.has(dir)) return;
    seen.add(dir);
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return; // vanished meanwhile, or unreadable: not part of this release
    }
    const folders: Promise<void>[] = [];
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        const isTests = entry.name === TEST_FOLDER || (ROOT_TEST_FOLDERS.has(entry.name) && roots.includes(dir));
        if (!IGNORED_FOLDERS.has(entry.name) && !isTests) folders.push(visit(full));
      } else if (entry.isFile() || entry.isSymbolicLink()) {
        if (DECLARATION.test(entry.name) || TEST_FILE.test(entry.name) || (dir === roots[0] && FW_CONFIG.test(entry.name))) continue;
        if (entry.isSymbolicLink() && !(await isFileLink(full))) continue;
        (isTranspiled(entry.name) ? tree.scripts : tree.assets).push(full);
      }
    }
    await Promise.all(folders);
  };
  await Promise.all(roots.map((root) => visit(root)));
  tree.scripts.sort();
  tree.assets.sort();
  return tree;
}

async function isFileLink(file: string): Promise<boolean> {
  return stat(file).then((info) => info.isFile(), () => false);
}

/** True for a path inside an installed package (a registry package stays external). */
export function isInstalledPackage(file: string): boolean {
  return file.split(path.sep).includes('node_modules');
}
