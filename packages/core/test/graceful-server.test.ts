/**
 * GracefulServer on a real http.Server and real sockets: counting and shedding kept-alive
 * connections, ending long-lived ones (an event stream, a WebSocket handshaken by hand) the way
 * their protocols end, and passing late requests on to the workers that go on serving.
 */
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { forwardToSuccessor } from '../src/worker/forward-to-successor.js';
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

  it('does not count an event stream as movable nor as a request in flight: it is long-lived', async () => {
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
    expect(graceful.requestsInFlight).toBe(0);
    expect(graceful.longLived.eventStreams()).toHaveLength(1);
    expect(graceful.movableConnections).toBe(1);
  });
});

describe('GracefulServer: long-lived connections', () => {
  it('ends an event stream cleanly (the last chunk, then the connection) and then the drain is over', async () => {
    const { graceful, port } = await startPlain((_req, res) => {
      // Headers given to writeHead alone, as Fastify's reply.raw users do: getHeader() cannot see them.
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: one\n\n');
    });
    const stream = await openStream(port);
    const drained = graceful.drain();
    expect(graceful.longLived.eventStreams()).toHaveLength(1);
    expect(graceful.closeLongLived(1012)).toEqual({ websockets: 0, eventStreams: 1, other: 0 });
    await expect(stream.ended).resolves.toContain('data: one');
    await drained;
  });

  it('sends a WebSocket a close frame (1012) and ends its socket; a server without upgrade listeners keeps none', async () => {
    const { graceful, port } = await startPlain((_req, res) => res.end('ok'));
    expect(graceful.server.listenerCount('upgrade')).toBe(0);
    graceful.server.on('upgrade', (_req, socket: net.Socket) => {
      socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
    });
    const client = net.connect(port, '127.0.0.1');
    client.write(`GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    const received: Buffer[] = [];
    client.on('data', (chunk) => received.push(chunk));
    const ended = new Promise((resolve) => client.once('end', resolve));
    await new Promise<void>((resolve) => client.on('data', () => Buffer.concat(received).includes('101 Switching') && resolve()));
    const drained = graceful.drain();
    expect(graceful.longLived.upgradedCount).toBe(1);
    expect(graceful.closeLongLived(1012)).toEqual({ websockets: 1, eventStreams: 0, other: 0 });
    await ended;
    const all = Buffer.concat(received);
    const frame = all.subarray(all.indexOf('\r\n\r\n') + 4);
    expect(frame[0]).toBe(0x88);
    expect(frame.readUInt16BE(2)).toBe(1012);
    expect(frame.subarray(4).toString()).toBe('service restart');
    client.end();
    await drained;
  });
});

describe('GracefulServer: a draining worker passes late requests on', () => {
  it('answers a request on a kept-alive connection from the successor, with Connection: close and the client in X-Forwarded-For', async () => {
    const successor = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => res.end(JSON.stringify({ from: 'successor', body, xff: req.headers['x-forwarded-for'], te: req.headers.te ?? null })));
    });
    await new Promise<void>((resolve) => successor.listen(0, '127.0.0.1', resolve));
    try {
      const { graceful, get } = await start((_req, res) => res.end(JSON.stringify({ from: 'old' })));
      await get();
      graceful.answerWith(forwardToSuccessor(`http://127.0.0.1:${(successor.address() as AddressInfo).port}`));
      const answer = await post(agent!, (graceful.server.address() as AddressInfo).port, 'a body');
      expect(answer.connection).toBe('close');
      expect(JSON.parse(answer.body)).toEqual({ from: 'successor', body: 'a body', xff: '127.0.0.1', te: null });
    } finally {
      successor.closeAllConnections();
      await new Promise((resolve) => successor.close(resolve));
    }
  });
});

async function startPlain(handler: http.RequestListener) {
  server = http.createServer(handler);
  const graceful = new GracefulServer(server);
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { graceful, port: (server.address() as AddressInfo).port };
}

/** Opens an event stream; `ended` resolves with all it received once the body ends cleanly. */
async function openStream(port: number): Promise<{ ended: Promise<string> }> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: '/events', agent: false }, (res) => {
      let text = '';
      const ended = new Promise<string>((done, fail) => {
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => done(text));
        res.on('error', fail);
      });
      res.once('data', () => resolve({ ended }));
    }).on('error', reject);
  });
}

function post(through: http.Agent, port: number, body: string): Promise<{ connection: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/', agent: through, headers: { te: 'trailers' } }, (res) => {
      let text = '';
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ connection: res.headers.connection, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
