import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import WebSocket from 'ws';
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
    expect(response.json()).toEqual({ slept: 50, version: VERSION, pid: process.pid });
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
  });

  it('refuses /slow beyond its bound', async () => {
    app = await createApp();
    const response = await app.inject({ method: 'GET', url: '/slow?ms=60001' });
    expect(response.statusCode).toBe(400);
  });

  it('serves the page in public/ beside the JSON routes', async () => {
    app = await createApp();
    const page = await app.inject({ method: 'GET', url: '/index.html' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toContain("'/ws'");
    // The static files' wildcard route gives way to the app's: / is still the JSON answer, and a
    // path that is neither a route nor a file is a 404.
    expect((await app.inject({ method: 'GET', url: '/' })).json()).toMatchObject({ hello: 'world' });
    expect((await app.inject({ method: 'GET', url: '/nope.html' })).statusCode).toBe(404);
  });

  it('greets and echoes on /ws over a real connection, then closes cleanly', async () => {
    app = await createApp();
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as AddressInfo;
    const socket = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    const [hello] = await once(socket, 'message');
    expect(JSON.parse(String(hello))).toEqual({ version: VERSION, pid: process.pid });
    socket.send('ping');
    const [echo, isBinary] = await once(socket, 'message');
    expect([String(echo), isBinary]).toEqual(['ping', false]);
    socket.close(1000, 'done');
    const [code] = await once(socket, 'close');
    expect(code).toBe(1000);
  });

  it('closes its WebSockets with 1012 as soon as it begins to close (a reload under fw)', async () => {
    app = await createApp();
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as AddressInfo;
    const socket = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    await once(socket, 'message');
    const closed = once(socket, 'close');
    const closing = app.close();
    const [code, reason] = await closed;
    expect([code, String(reason)]).toEqual([1012, 'restarting']);
    await closing;
    app = undefined;
  });
});
