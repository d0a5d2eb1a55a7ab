import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/** The package names a spare should load ahead of time, from `FW_WARM_MODULES` (a JSON array). */
export function parseWarmModules(value: string | undefined): string[] {
  if (!value) return [];
  try {
    const parsed: unknown = JSON.parse(value);
    return Array.isArray(parsed) ? parsed.filter((name): name is string => typeof name === 'string') : [];
  } catch {
    return [];
  }
}

/**
 * Makes a spare worker fast to boot: loads the app's dependencies (resolved from the app folder,
 * as the build will resolve them) and exercises Fastify once, so its code is compiled and its
 * schema machinery warm before the build arrives. A module that fails to load is skipped: the
 * build will report the real error when it imports it.
 */
export async function warmUp(modules: readonly string[], appDir: string): Promise<void> {
  const require = createRequire(path.join(appDir, 'package.json'));
  for (const name of modules) {
    try {
      const url = pathToFileURL(require.resolve(name)).href;
      const module = (await import(url)) as { default?: unknown };
      if (name === 'fastify') await exerciseFastify(module.default);
    } catch {
      // Not loadable from here (an ESM-only export map, a typo in the app): the build will tell.
    }
  }
}

async function exerciseFastify(fastify: unknown): Promise<void> {
  if (typeof fastify !== 'function') return;
  const app = (fastify as (options: object) => {
    get(path: string, options: object, handler: () => unknown): void;
    ready(): Promise<unknown>;
    inject(options: object): Promise<unknown>;
    close(): Promise<unknown>;
  })({ logger: false });
  app.get('/warm/:id', {
    schema: {
      params: { type: 'object', properties: { id: { type: 'string' } } },
      response: { 200: { type: 'object', properties: { ok: { type: 'boolean' } } } },
    },
  }, () => ({ ok: true }));
  await app.ready();
  await app.inject({ method: 'GET', url: '/warm/1' });
  await app.close();
}
