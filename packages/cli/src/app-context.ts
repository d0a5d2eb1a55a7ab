import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from './config/load-config.js';
import { resolveSettings, type Settings } from './config/settings.js';
import { UsageError } from './errors.js';

/** Resolves the app folder, reads its config and settles every setting, or fails with one line. */
export async function appSettings(dirArgument: string | undefined, flags: Parameters<typeof resolveSettings>[0]['flags']): Promise<Settings> {
  const appDir = resolveAppDir(dirArgument);
  const { config, file } = await loadConfig(appDir);
  return resolveSettings({ appDir, flags, env: process.env, config, configFile: file });
}

export function resolveAppDir(dirArgument: string | undefined): string {
  const appDir = path.resolve(dirArgument ?? '.');
  if (!existsSync(appDir) || !statSync(appDir).isDirectory()) {
    throw new UsageError(`app folder ${dirArgument} does not exist: pass the folder that holds the app, e.g. "fw start apps/example"`);
  }
  return appDir;
}
