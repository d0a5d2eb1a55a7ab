import type { FastifyPluginAsync } from 'fastify';

export const helloRoutes: FastifyPluginAsync<{ version: string }> = async (app, { version }) => {
  app.get('/', async () => ({ hello: 'world', version, pid: process.pid }));

  app.get<{ Params: { name: string } }>('/hello/:name', {
    schema: {
      params: { type: 'object', properties: { name: { type: 'string', maxLength: 64 } }, required: ['name'] },
    },
  }, async (request) => ({ greeting: `${process.env.GREETING ?? 'hello'}, ${request.params.name}`, version }));

  app.post<{ Body: { a: number; b: number } }>('/sum', {
    schema: {
      body: {
        type: 'object',
        properties: { a: { type: 'number' }, b: { type: 'number' } },
        required: ['a', 'b'],
        additionalProperties: false,
      },
    },
  }, async (request) => ({ sum: request.body.a + request.body.b }));
};
