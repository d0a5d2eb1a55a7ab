import fp from 'fastify-plugin';

declare module 'fastify' {
  interface FastifyInstance {
    stats: { served: number; startedAt: number };
  }
}

/** Counts the requests this worker served; shared with every route (hence fastify-plugin). */
export const requestStats = fp(async (app) => {
  app.decorate('stats', { served: 0, startedAt: Date.now() });
  app.addHook('onResponse', async () => {
    app.stats.served++;
  });
}, { name: 'request-stats' });
