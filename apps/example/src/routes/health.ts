import type { FastifyPluginAsync } from 'fastify';

export const healthRoutes: FastifyPluginAsync = async (app) => {
  app.get('/health', async () => ({
    ok: true,
    pid: process.pid,
    served: app.stats.served,
    uptimeMs: Date.now() - app.stats.startedAt,
  }));

  // Who Fastify thinks the client is. Behind a proxy these come from X-Forwarded-* only for the
  // peers `proxy.trust` in fw.config.ts names; otherwise from the connection itself.
  app.get('/whoami', async (request) => ({ ip: request.ip, ips: request.ips ?? [], protocol: request.protocol, host: request.host }));
};
