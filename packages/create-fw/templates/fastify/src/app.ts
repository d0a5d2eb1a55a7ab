import Fastify from 'fastify';
import { healthRoutes } from './routes/health.js';
import { helloRoutes } from './routes/hello.js';

/**
 * The app. fw imports this file, calls the default export and serves what it returns: it
 * listens on the port, runs the workers and reloads them without dropping a request. The app
 * never calls `listen` itself; tests call `app.inject` instead.
 */
export default async function createApp() {
  const app = Fastify({
    logger: { level: process.env.LOG_LEVEL ?? 'info' },
  });
  await app.register(helloRoutes);
  await app.register(healthRoutes);
  return app;
}
