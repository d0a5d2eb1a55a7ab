import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';

/**
 * Every file and folder under `path` with its content and (unless `mtimes` is false) its mtime:
 * equal snapshots mean untouched. A file snapshots as itself.
 */
export async function snapshot(target: string, options: { mtimes?: boolean } = {}): Promise<Record<string, string> | 'missing'> {
  if (!existsSync(target)) return 'missing';
  const withMtime = options.mtimes !== false;
  const result: Record<string, string> = {};
  const describe = async (full: string, key: string) => {
    const info = await stat(full);
    const mtime = withMtime ? `${info.mtimeMs} ` : '';
    if (!info.isDirectory()) {
      result[key] = `${mtime}${await readFile(full, 'utf8')}`;
      return;
    }
    result[`${key}/`] = mtime;
    for (const entry of await readdir(full)) await describe(path.join(full, entry), path.join(key, entry));
  };
  await describe(target, '.');
  return result;
}

/** The files under `dir`, relative, sorted. */
export async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)))
    .sort();
}
