import * as module from 'node:module';
import { resolveSync } from './fastify-trust-hooks.js';

type RegisterHooks = (hooks: { resolve: typeof resolveSync }) => unknown;

/**
 * `proxy.trust` from fw.config.ts becomes Fastify's `trustProxy` without the app passing it.
 * A module hook sends the app's `import 'fastify'` (not that of packages in node_modules) to
 * `fastify-with-trust.js`, whose factory defaults `trustProxy` to the configured value; an app
 * that sets `trustProxy` itself keeps its own.
 *
 * In-thread hooks (`module.registerHooks`, Node.js 22.15+) where Node.js has them: Node.js 26
 * deprecates `module.register` and would print a DeprecationWarning in every worker (DEP0205).
 */
export function defaultFastifyTrustProxy(): void {
  const registerHooks = (module as unknown as { registerHooks?: RegisterHooks }).registerHooks;
  if (typeof registerHooks === 'function') registerHooks({ resolve: resolveSync });
  else module.register(new URL('./fastify-trust-hooks.js', import.meta.url));
}
