import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import app from '../src/app.js';

describe('app', () => {
  let server: Server;
  let origin: string;
  beforeAll(async () => {
    // fw listens for the app in production; the test does it on a free port of its own.
    server = createServer(app).listen(0, '127.0.0.1');
    await once(server, 'listening');
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.close();
    await once(server, 'close');
  });

  it('answers GET /', async () => {
    const response = await fetch(`${origin}/`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ hello: 'world' });
  });

  it('says it is healthy', async () => {
    const response = await fetch(`${origin}/health`);
    expect(await response.json()).toMatchObject({ ok: true });
  });

  it('answers 404 for anything else', async () => {
    const response = await fetch(`${origin}/nope`);
    expect(response.status).toBe(404);
  });
});
