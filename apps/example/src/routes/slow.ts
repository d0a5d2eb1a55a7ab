import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyPluginAsync } from 'fastify';

/** A slow request: shows that a stop or reload lets it finish. */
export const slowRoutes: FastifyPluginAsync = async (app) => {
  app.get<{ Querystring: { ms?: number } }>('/slow', {
    schema: {
      querystring: { type: 'object', properties: { ms: { type: 'integer', minimum: 0, maximum: 60_000 } } },
    },
  }, async (request) => {
    const ms = request.query.ms ?? 2_500;
    await sleep(ms);
    return { slept: ms, pid: process.pid };
  });
};
