/**
 * Apps that hold long-lived connections, for test/long-lived.test.ts: a WebSocket that sends its
 * version every 200 ms and a server-sent-events stream that does the same, beside a plain
 * `GET /`. Each is written the way its ecosystem writes it, as an ES module TypeScript app outside
 * the repository:
 *
 * - a Fastify factory with @fastify/websocket, whose own preClose closes the WebSocket clients
 *   (a close frame with no status) and an app `preClose` hook that ends the event streams;
 * - a node:http `src/server.ts` that listens itself, with `ws`'s WebSocketServer, and on SIGTERM
 *   closes its WebSockets (1012) and ends its streams, then `server.close(() => process.exit(0))`;
 * - the same server with no SIGTERM handler: whatever it leaves open, fw must close.
 *
 * Every answer and message is `{"version":"…","pid":…}`: the version in `const VERSION = '…';`
 * (what an edit changes, see `versionLine`) and the pid of the worker that holds the connection.
 * `GET /slow` is a plain request that is in flight when the app's close path runs: it answers
 * 300 ms after the app began to shut down (or after 10 s), `{"version","pid","heardClose"}`.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { versionLine } from './listen-apps.js';
import { appPackage, appTsconfig, esModules, gitignore, writeTree } from './written-apps.js';

export { versionLine };

/** @fastify/websocket: the latest 11.x, as `npm install @fastify/websocket` writes it today. */
const FASTIFY_WEBSOCKET = '^11.2.0';
const WS = '^8.18.3';
const WS_TYPES = '^8.18.1';

/** Sets the `const VERSION = '…';` line of `file`, whatever it says now. */
export async function setVersion(file: string, version: string): Promise<void> {
  const text = await readFile(file, 'utf8');
  if (!/const VERSION = '[^']*';/.test(text)) throw new Error(`${file} has no VERSION line:\n${text}`);
  await writeFile(file, text.replace(/const VERSION = '[^']*';/, versionLine(version)));
}

/**
 * A Fastify 5 factory in `src/app.ts`: `GET /` answers the version; `GET /ws` is a WebSocket route
 * of @fastify/websocket; `GET /events` an event stream the route writes itself (`reply.hijack()`),
 * kept in a set that a `preClose` hook ends. @fastify/websocket's own `preClose` closes its clients.
 */
export async function writeFastifyLongLivedApp(dir: string): Promise<void> {
  await writeTree(dir, {
    'package.json': appPackage({
      name: 'fastify-long-lived',
      type: 'module',
      dependencies: { '@fastify/websocket': FASTIFY_WEBSOCKET, fastify: '^5.6.0' },
      devDependencies: { '@types/ws': WS_TYPES },
    }),
    'tsconfig.json': appTsconfig(esModules),
    '.gitignore': gitignore,
    'src/app.ts': `import type { ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import websocket from '@fastify/websocket';
import Fastify from 'fastify';

${versionLine('v1')}

const hello = () => JSON.stringify({ version: VERSION, pid: process.pid });

// Resolved when the app begins to shut down.
let heardClose = false;
let closing: () => void = () => undefined;
const closed = new Promise<void>((resolve) => {
  closing = resolve;
});

export default async function createApp() {
  const app = Fastify({ logger: { level: process.env.LOG_LEVEL ?? 'info' } });
  await app.register(websocket);

  app.get('/', async (_request, reply) => reply.type('application/json').send(hello()));

  // A request in flight as the app shuts down: answered 300 ms after that began.
  app.get('/slow', async () => {
    await Promise.race([closed, sleep(10_000)]);
    await sleep(300);
    return { version: VERSION, pid: process.pid, heardClose };
  });

  app.get('/ws', { websocket: true }, (socket) => {
    socket.send(hello());
    const timer = setInterval(() => socket.send(hello()), 200);
    socket.on('close', () => clearInterval(timer));
  });

  // Open event streams, each with the function that ends it.
  const streams = new Map<ServerResponse, () => void>();
  app.get('/events', (_request, reply) => {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const send = () => res.write(\`data: \${hello()}\\n\\n\`);
    send();
    const timer = setInterval(send, 200);
    const end = () => {
      clearInterval(timer);
      streams.delete(res);
      if (!res.writableEnded) res.end();
    };
    streams.set(res, end);
    res.on('close', end);
  });
  // Shutting down: end every event stream (@fastify/websocket closes the WebSockets).
  app.addHook('preClose', async () => {
    heardClose = true;
    closing();
    for (const end of [...streams.values()]) end();
  });

  return app;
}
`,
  });
}

/**
 * A node:http `src/server.ts` that listens on PORT itself, exporting nothing, with `ws`'s
 * WebSocketServer on the same server for `/ws`. With `onSigterm`, it shuts down the documented
 * way: on SIGTERM, every WebSocket is closed with 1012 ("restarting"), every event stream ended,
 * then `server.close(() => process.exit(0))`. Without, it never hears the drain.
 */
export async function writeListenWsApp(dir: string, options: { name: string; onSigterm: boolean }): Promise<void> {
  const sigterm = `
// Shutting down: tell every WebSocket client to reconnect, end every event stream, then close.
process.on('SIGTERM', () => {
  heardClose = true;
  closing();
  console.log(\`\${VERSION} (pid \${process.pid}): SIGTERM, closing \${wss.clients.size} WebSocket(s) and \${streams.size} event stream(s)\`);
  for (const client of wss.clients) client.close(1012, 'restarting');
  for (const end of [...streams]) end();
  server.close(() => process.exit(0));
});
`;
  await writeTree(dir, {
    'package.json': appPackage({ name: options.name, type: 'module', dependencies: { ws: WS }, devDependencies: { '@types/ws': WS_TYPES } }),
    'tsconfig.json': appTsconfig(esModules),
    '.gitignore': gitignore,
    'src/server.ts': `import { createServer } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocketServer } from 'ws';

${versionLine('v1')}

const hello = () => JSON.stringify({ version: VERSION, pid: process.pid });

// Resolved when the app begins to shut down${options.onSigterm ? '' : ' (never: it does not hear it)'}.
let heardClose = false;
let closing: () => void = () => undefined;
const closed = new Promise<void>((resolve) => {
  closing = resolve;
});

// Open event streams, each as the function that ends it.
const streams = new Set<() => void>();

const server = createServer((req, res) => {
  if (req.url === '/events') {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const send = () => res.write(\`data: \${hello()}\\n\\n\`);
    send();
    const timer = setInterval(send, 200);
    const end = () => {
      clearInterval(timer);
      streams.delete(end);
      if (!res.writableEnded) res.end();
    };
    streams.add(end);
    res.on('close', end);
    return;
  }
  res.setHeader('content-type', 'application/json');
  if (req.url === '/slow') {
    // A request in flight as the app shuts down: answered 300 ms after that began.
    void Promise.race([closed, sleep(10_000)])
      .then(() => sleep(300))
      .then(() => res.end(JSON.stringify({ version: VERSION, pid: process.pid, heardClose })));
    return;
  }
  res.end(hello());
});

const wss = new WebSocketServer({ server, path: '/ws' });
wss.on('connection', (socket) => {
  socket.send(hello());
  const timer = setInterval(() => socket.send(hello()), 200);
  socket.on('close', () => clearInterval(timer));
});

server.listen(Number(process.env.PORT ?? 3000));
${options.onSigterm ? sigterm : ''}`,
  });
}
