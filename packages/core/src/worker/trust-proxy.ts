import { register } from 'node:module';

/**
 * `proxy.trust` from fw.config.ts becomes Fastify's `trustProxy` without the app passing it.
 * A module hook sends the app's `import 'fastify'` (not that of packages in node_modules) to
 * `fastify-with-trust.js`, whose factory defaults `trustProxy` to the configured value; an app
 * that sets `trustProxy` itself keeps its own.
 */
export function defaultFastifyTrustProxy(): void {
  register(new URL('./fastify-trust-hooks.js', import.meta.url));
}
