/** GracefulServer on a real http.Server and real sockets: counting and shedding kept-alive connections. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { GracefulServer } from '../src/worker/graceful-server.js';

let server: http.Server | undefined;
let agent: http.Agent | undefined;

afterEach(async () => {
  agent?.destroy();
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
});

async function start(handler: http.RequestListener = (_req, res) => res.end('ok')) {
  server = http.createServer();
  const graceful = new GracefulServer(server);
  server.on('request', handler);
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  const get = (path = '/') =>
    new Promise<{ connection: string | undefined }>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port, path, agent }, (res) => {
          res.resume();
          res.on('end', () => resolve({ connection: res.headers.connection }));
        })
        .on('error', reject);
    });
  return { graceful, get };
}

describe('GracefulServer: kept-alive connections', () => {
  it('counts the connections kept alive after a response, and lets the asked number go after their next response', async () => {
    const { graceful, get } = await start();
    await Promise.all([get(), get(), get(), get()]);
    expect(graceful.movableConnections).toBe(4);

    expect(graceful.shed(2)).toBe(2);
    const next = await Promise.all([get(), get(), get(), get()]);
    expect(next.filter((response) => response.connection === 'close')).toHaveLength(2);
    expect(next.filter((response) => response.connection === 'keep-alive')).toHaveLength(2);
    // The two closed after their response; the other two stay.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(graceful.movableConnections).toBe(2);
  });

  it('does not count a response that is streaming: a Connection: close could not move it', async () => {
    const { graceful, get } = await start((req, res) => {
      if (req.url === '/stream') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: hello\n\n');
        return;
      }
      res.end('ok');
    });
    await Promise.all([get(), get()]);
    // One of the two idle connections carries the stream; the other stays idle.
    void get('/stream').catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(graceful.requestsInFlight).toBe(1);
    expect(graceful.movableConnections).toBe(1);
  });
});
