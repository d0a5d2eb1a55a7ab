import { createRequire } from 'node:module';
import path from 'node:path';

/**
 * `proxy.trust` from fw.config.ts becomes Fastify's `trustProxy` without the app passing it:
 * before the app is imported, the app's own `fastify` module is loaded and its factory wrapped so
 * that `trustProxy` defaults to the configured value (an app that sets it keeps its own). The
 * bundle imports the same file, so it gets the wrapper.
 */
export function defaultFastifyTrustProxy(appDir: string, trustProxy: unknown): void {
  const require = createRequire(path.join(appDir, 'package.json'));
  let id: string;
  try {
    id = require.resolve('fastify');
  } catch {
    return; // not a Fastify app
  }
  const original = require(id) as ((options?: Record<string, unknown>) => unknown) & Record<string, unknown>;
  const withTrust = Object.assign(
    (options: Record<string, unknown> = {}) => original({ trustProxy, ...options }),
    original,
  );
  Object.assign(withTrust, { fastify: withTrust, default: withTrust });
  const cached = require.cache[id];
  if (cached) cached.exports = withTrust;
}
