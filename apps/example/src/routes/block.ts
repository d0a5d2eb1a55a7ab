import type { FastifyPluginAsync } from 'fastify';

/**
 * Blocks this worker's event loop for `ms` milliseconds: a stand-in for a runaway computation.
 * Shows fw's watchdog (`fw start --timeout`): the master notices the missing heartbeats, starts
 * a replacement and kills the stuck worker, while the other workers keep serving.
 */
export const blockRoutes: FastifyPluginAsync = async (app) => {
  app.get<{ Querystring: { ms?: number } }>('/block', {
    schema: {
      querystring: { type: 'object', properties: { ms: { type: 'integer', minimum: 0, maximum: 600_000 } } },
    },
  }, async (request) => {
    const ms = request.query.ms ?? 1_000;
    const until = Date.now() + ms;
    while (Date.now() < until) {
      // Deliberately busy: nothing else runs in this worker meanwhile.
    }
    return { blocked: ms, pid: process.pid };
  });
};
