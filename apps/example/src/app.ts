import path from 'node:path';
import fastifyStatic from '@fastify/static';
import Fastify from 'fastify';
import { requestStats } from './plugins/request-stats.js';
import { blockRoutes } from './routes/block.js';
import { healthRoutes } from './routes/health.js';
import { helloRoutes } from './routes/hello.js';
import { liveRoutes } from './routes/live.js';
import { slowRoutes } from './routes/slow.js';

/** Changed by a deploy; `GET /` shows which version answered. */
export const VERSION = 'v1';

/**
 * fw's app contract: default-export a Fastify instance or a factory returning one. fw awaits
 * `ready()`, listens on the sockets its master owns, and drains on reload; the app never calls
 * `listen` itself.
 */
export default async function createApp() {
  const app = Fastify({
    // Fastify logs every request at info; LOG_LEVEL=warn quiets that under load.
    logger: { level: process.env.LOG_LEVEL ?? 'info' },
  });
  await app.register(requestStats);
  await app.register(helloRoutes, { version: VERSION });
  await app.register(healthRoutes);
  await app.register(slowRoutes, { version: VERSION });
  await app.register(blockRoutes);
  await app.register(liveRoutes, { version: VERSION });
  // public/ beside src/, found from this module: fw build mirrors the app folder, so the release
  // serves its own copy (.fw/build/public/). `GET /` stays the JSON route; the page is /index.html.
  await app.register(fastifyStatic, { root: path.join(import.meta.dirname, '..', 'public') });
  app.addHook('onClose', async () => {
    app.log.info({ served: app.stats.served }, 'worker closing: all requests finished');
  });
  return app;
}
