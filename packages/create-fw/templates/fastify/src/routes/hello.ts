import type { FastifyPluginAsync } from 'fastify';

export const helloRoutes: FastifyPluginAsync = async (app) => {
  app.get('/', async () => ({ hello: 'world' }));

  app.get<{ Params: { name: string } }>('/hello/:name', {
    schema: {
      params: {
        type: 'object',
        properties: { name: { type: 'string', minLength: 1, maxLength: 64 } },
        required: ['name'],
      },
    },
  }, async (request) => ({ greeting: `hello, ${request.params.name}` }));
};
