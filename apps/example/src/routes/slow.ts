import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyPluginAsync } from 'fastify';

/**
 * A slow request: shows that a stop or reload lets it finish. Asked during `fw reload`, it is
 * answered in full by the version it reached, while new requests already get the new one.
 */
export const slowRoutes: FastifyPluginAsync<{ version: string }> = async (app, { version }) => {
  app.get<{ Querystring: { ms?: number } }>('/slow', {
    schema: {
      querystring: { type: 'object', properties: { ms: { type: 'integer', minimum: 0, maximum: 60_000 } } },
    },
  }, async (request) => {
    const ms = request.query.ms ?? 2_500;
    await sleep(ms);
    return { slept: ms, version, pid: process.pid };
  });
};
