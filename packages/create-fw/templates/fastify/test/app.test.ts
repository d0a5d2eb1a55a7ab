import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import createApp from '../src/app.js';

describe('app', () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
  });

  it('answers GET /', async () => {
    app = await createApp();
    const response = await app.inject({ method: 'GET', url: '/' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ hello: 'world' });
  });

  it('greets by name', async () => {
    app = await createApp();
    const response = await app.inject({ method: 'GET', url: '/hello/ada' });
    expect(response.json()).toEqual({ greeting: 'hello, ada' });
  });

  it('says it is healthy', async () => {
    app = await createApp();
    const response = await app.inject({ method: 'GET', url: '/health' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ ok: true });
  });
});
