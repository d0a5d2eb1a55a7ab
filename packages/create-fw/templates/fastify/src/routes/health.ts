import type { FastifyPluginAsync } from 'fastify';

/** For load balancers and uptime checks. */
export const healthRoutes: FastifyPluginAsync = async (app) => {
  app.get('/health', async () => ({ ok: true, pid: process.pid, uptimeSeconds: Math.round(process.uptime()) }));
};
