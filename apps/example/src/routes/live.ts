import websocket from '@fastify/websocket';
import type { FastifyPluginAsync } from 'fastify';

/**
 * `GET /ws`: a WebSocket that says which version and worker answered, then echoes what it is sent.
 * It never ends by itself, so it shows what a reload does to a long-lived connection: the old worker
 * closes it the moment fw drains it, and the client reconnects to the new version (public/index.html).
 */
export const liveRoutes: FastifyPluginAsync<{ version: string }> = async (app, { version }) => {
  // Registered in this plugin, not in app.ts: its onRequest and onResponse hooks then run for
  // these routes only, not on every JSON request.
  await app.register(websocket, {
    // An echo needs no large messages; ws would accept 100 MiB.
    options: { maxPayload: 64 * 1024 },
    // Runs as soon as fw drains this worker (a reload, a save under fw dev, a stop), while its
    // requests in flight finish. @fastify/websocket's own preClose sends a close frame with no
    // code; 1012 (service restart) tells the client to reconnect now, and a new connection reaches
    // the new workers. Left open, fw would close them itself at the long-lived timeout (5 s).
    preClose: async () => {
      for (const client of app.websocketServer.clients) client.close(1012, 'restarting');
    },
  });

  app.get('/ws', { websocket: true }, (socket) => {
    socket.send(JSON.stringify({ version, pid: process.pid }));
    socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
  });
};
