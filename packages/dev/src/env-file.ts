import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseEnv } from 'node:util';

/** The `.env` files fw dev reads, later ones winning. */
export const ENV_FILES = ['.env', '.env.local'] as const;

/** Values from the app's `.env` files; missing files are empty. */
export async function readEnvFiles(appDir: string): Promise<Record<string, string>> {
  const values: Record<string, string> = {};
  for (const name of ENV_FILES) {
    const text = await readFile(path.join(appDir, name), 'utf8').catch(() => null);
    if (text !== null) Object.assign(values, parseEnv(text));
  }
  return values;
}
