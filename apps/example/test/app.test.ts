import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import createApp, { VERSION } from '../src/app.js';

describe('example app', () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
  });

  it('answers / with its version', async () => {
    app = await createApp();
    const response = await app.inject({ method: 'GET', url: '/' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ hello: 'world', version: VERSION });
  });

  it('validates the body of POST /sum', async () => {
    app = await createApp();
    const ok = await app.inject({ method: 'POST', url: '/sum', payload: { a: 2, b: 3 } });
    expect(ok.json()).toEqual({ sum: 5 });
    const bad = await app.inject({ method: 'POST', url: '/sum', payload: { a: 'x' } });
    expect(bad.statusCode).toBe(400);
  });

  it('counts served requests in /health through its plugin', async () => {
    app = await createApp();
    await app.inject({ method: 'GET', url: '/' });
    const health = await app.inject({ method: 'GET', url: '/health' });
    expect(health.json()).toMatchObject({ ok: true, served: 1 });
  });

  it('serves /slow after the asked delay', async () => {
    app = await createApp();
    const started = Date.now();
    const response = await app.inject({ method: 'GET', url: '/slow?ms=50' });
    expect(response.json()).toMatchObject({ slept: 50 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
  });
});
