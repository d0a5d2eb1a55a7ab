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
export async function warmUp(modules: readonly string[], appDir: string, interrupted: () => boolean = () => false): Promise<void> {
  const require = createRequire(path.join(appDir, 'package.json'));
  for (const name of modules) {
    // A build arrived: stop warming and boot it (what is loaded so far stays loaded).
    if (interrupted()) return;
    try {
      const url = pathToFileURL(require.resolve(name)).href;
      const module = (await import(url)) as { default?: unknown };
      if (name === 'fastify') await exerciseFastify(module.default, interrupted);
    } catch {
      // Not loadable from here (an ESM-only export map, a typo in the app): the build will tell.
    }
  }
}

interface ThrowawayFastify {
  register(plugin: (app: ThrowawayFastify) => Promise<void>): unknown;
  route(options: object): void;
  addHook(name: string, hook: () => Promise<void>): void;
  decorate(name: string, value: unknown): void;
  ready(): Promise<unknown>;
  inject(options: object): Promise<unknown>;
  close(): Promise<unknown>;
}

/**
 * One throwaway app that walks the paths a typical Fastify app takes at start-up: a logger,
 * an encapsulated plugin, hooks, decorators, and routes whose params, query, body and response
 * schemas are compiled; then one request of each kind. Twice, as V8 optimises on the second run.
 */
async function exerciseFastify(fastify: unknown, interrupted: () => boolean): Promise<void> {
  if (typeof fastify !== 'function') return;
  for (let round = 0; round < 2 && !interrupted(); round++) {
    const app = (fastify as (options: object) => ThrowawayFastify)({ logger: { level: 'silent' } });
    app.decorate('warm', { round });
    app.addHook('onResponse', async () => undefined);
    await app.register(async (scope) => {
      scope.addHook('onRequest', async () => undefined);
      scope.route({
        method: 'GET',
        url: '/warm/:id',
        schema: {
          params: { type: 'object', properties: { id: { type: 'string', maxLength: 64 } }, required: ['id'] },
          querystring: { type: 'object', properties: { n: { type: 'integer', minimum: 0 } } },
          response: { 200: { type: 'object', properties: { ok: { type: 'boolean' }, id: { type: 'string' } } } },
        },
        handler: async () => ({ ok: true, id: 'x' }),
      });
      scope.route({
        method: 'POST',
        url: '/warm',
        schema: {
          body: { type: 'object', properties: { a: { type: 'number' }, b: { type: 'string' } }, required: ['a'], additionalProperties: false },
        },
        handler: async () => ({ ok: true }),
      });
    });
    await app.ready();
    await app.inject({ method: 'GET', url: '/warm/1?n=2' });
    await app.inject({ method: 'POST', url: '/warm', payload: { a: 1, b: 'x' } });
    await app.inject({ method: 'GET', url: '/missing' });
    await app.close();
  }
}
