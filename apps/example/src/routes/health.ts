import type { FastifyPluginAsync } from 'fastify';

export const healthRoutes: FastifyPluginAsync = async (app) => {
  app.get('/health', async () => ({
    ok: true,
    pid: process.pid,
    served: app.stats.served,
    uptimeMs: Date.now() - app.stats.startedAt,
  }));
};
