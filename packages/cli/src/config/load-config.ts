import { existsSync } from 'node:fs';
import path from 'node:path';
import type { z as Zod } from 'zod';
import { UsageError } from '../usage-error.js';
import type { FwConfig } from './define-config.js';

/** Looked for in this order; the first that exists is the app's config. */
export const CONFIG_FILES = ['fw.config.ts', 'fw.config.mts', 'fw.config.js', 'fw.config.mjs'] as const;

/**
 * Built on first use: zod is only loaded when the app has a config file. FwConfig, the type users
 * write against, is where a setting is defined; the `satisfies` makes the compiler refuse this
 * schema when it lacks one of FwConfig's keys or has one FwConfig lacks. Values are checked in
 * resolveSettings, whose keys are FwConfig's too.
 */
const configSchema = (z: typeof Zod) => z.strictObject({
  entry: z.string().optional(),
  entryKind: z.enum(['instance', 'factory', 'plugin', 'listener']).optional(),
  port: z.unknown().optional(),
  host: z.unknown().optional(),
  workers: z.unknown().optional(),
  gracefulTimeout: z.unknown().optional(),
  longLivedTimeout: z.unknown().optional(),
  bakeTime: z.unknown().optional(),
  bootTimeout: z.unknown().optional(),
  timeout: z.unknown().optional(),
  maxRequests: z.unknown().optional(),
  maxRequestsJitter: z.unknown().optional(),
  maxMemory: z.unknown().optional(),
  bind: z.unknown().optional(),
  socketMode: z.unknown().optional(),
  proxy: z.strictObject({ trust: z.unknown().optional() } satisfies ShapeOf<NonNullable<FwConfig['proxy']>>).optional(),
} satisfies ShapeOf<FwConfig>);

/** One schema per key of T, no more and no fewer. */
type ShapeOf<T> = { [K in keyof Required<T>]: Zod.ZodType };

export interface LoadedConfig {
  config: FwConfig;
  /** Path of the file read, or null when the app has none. */
  file: string | null;
  /** Every file the config imported, so a watcher knows what to watch. */
  dependencies: string[];
}

/**
 * Loads `fw.config.*` from the app folder with bundle-require (on fw's esbuild): TypeScript
 * works, and the files it read come back. Shape is checked here; values in `resolveSettings`.
 */
export async function loadConfig(appDir: string): Promise<LoadedConfig> {
  const file = CONFIG_FILES.map((name) => path.join(appDir, name)).find((candidate) => existsSync(candidate));
  if (!file) return { config: {}, file: null, dependencies: [] };
  const name = path.basename(file);
  let loaded: { mod: { default?: unknown }; dependencies: string[] };
  try {
    const { bundleRequire } = await import('bundle-require');
    loaded = await bundleRequire({ filepath: file, cwd: appDir, esbuildOptions: { logLevel: 'silent' } });
  } catch (error) {
    throw new UsageError(`${name} could not be loaded: ${describeLoadError(error, name)}; fix the file or remove it`);
  }
  const exported = loaded.mod.default ?? loaded.mod;
  const { z } = await import('zod');
  const schema = configSchema(z);
  const parsed = schema.safeParse(exported);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    if (issue?.code === 'unrecognized_keys') {
      throw new UsageError(
        `unknown setting "${issue.keys[0]}" in ${name}: known settings are ${Object.keys(schema.shape).join(', ')}`,
      );
    }
    const where = issue?.path.length ? `"${issue.path.join('.')}" in ${name}` : name;
    throw new UsageError(`invalid ${where}: ${issue?.message ?? 'not an object'}; export default defineConfig({ ... })`);
  }
  return { config: parsed.data as FwConfig, file, dependencies: loaded.dependencies.map((dep) => path.resolve(appDir, dep)) };
}

/** esbuild's first error with its place (`fw.config.ts:3:14: Expected "}"`), or the error's first line. */
function describeLoadError(error: unknown, name: string): string {
  const [first] = (error as { errors?: { text: string; location?: { line: number; column: number } | null }[] }).errors ?? [];
  if (first) return first.location ? `${name}:${first.location.line}:${first.location.column + 1}: ${first.text}` : first.text;
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0] ?? message;
}
