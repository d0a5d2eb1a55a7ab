/**
 * The worker bootstrap: the code that runs inside every worker process.
 * Loads the app (the app contract), awaits its start-up, reports `booted`; on `serve` listens on
 * the handed sockets and reports `ready`; on `drain` stops accepting, lets in-flight requests
 * finish, closes the app and exits. It exits when its master's IPC channel closes: no orphans.
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { EXIT_BOOT_ERROR, EXIT_LISTEN_ERROR, EXIT_OK, EXIT_ORPHANED } from '../exit-codes.js';
import { isMasterMessage, serializeError, tag, type WorkerMessage } from '../ipc.js';
import { forwardToSuccessor } from './drain-forwarder.js';
import { GracefulServer } from './graceful-server.js';
import { loadApp, type LoadedApp } from './load-app.js';
import { defaultFastifyTrustProxy } from './trust-proxy.js';
import { parseWarmModules, warmUp } from './warm-up.js';

const ORPHAN_EXIT_MS = 2_000;

interface HandedSocket {
  handle: unknown;
  address: string;
}

const gracefulTimeoutMs = Number(process.env.FW_GRACEFUL_TIMEOUT_MS) || 30_000;
/** `fw start --health-path`: answered by fw itself, before the app (see answerHealth). */
const healthPath = process.env.FW_HEALTH_PATH || undefined;
/** fw dev: a draining worker passes late requests on to its successor (see drain-forwarder.ts). */
const forwardWhileDraining = process.env.FW_FORWARD_WHILE_DRAINING === '1';
/** A spare is started ahead of time, warms up, and learns its build from a `load` message. */
const isSpare = process.env.FW_SPARE === '1';
let generation = process.env.FW_GENERATION ?? '?';
const sockets: HandedSocket[] = [];
let expectedSockets = Number.POSITIVE_INFINITY;
let app: LoadedApp | undefined;
let servers: GracefulServer[] = [];
let phase: 'booting' | 'booted' | 'serving' | 'draining' | 'failed' = 'booting';
let serveRequested = false;

function send(message: WorkerMessage): void {
  if (process.connected) process.send?.(tag(message), undefined, undefined, () => undefined);
}

function failBoot(error: unknown): void {
  if (phase === 'failed') return;
  phase = 'failed';
  const serialized = serializeError(error);
  // The master prints it with its own context; say it here only if there is no master to tell.
  if (!process.connected) {
    process.stderr.write(`[fw] worker of generation ${generation} failed to start:\n${serialized.stack ?? serialized.message}\n`);
  }
  exitAfterSending({ type: 'boot-error', error: serialized }, EXIT_BOOT_ERROR);
}

/** Exits once the master has the message (a boot error must reach it), or after a short grace. */
function exitAfterSending(message: WorkerMessage, code: number): void {
  process.exitCode = code;
  setTimeout(() => process.exit(code), 1_000).unref();
  if (!process.connected || !process.send) process.exit(code);
  process.send(tag(message), undefined, undefined, () => process.exit(code));
}

async function boot(entry: string | undefined): Promise<void> {
  if (!entry) return failBoot(new Error('FW_BUILD_ENTRY is not set: a worker is started by the fw master'));
  const startedAt = performance.now();
  if (process.env.FW_TRUST_PROXY) defaultFastifyTrustProxy();
  const timings: { importMs?: number } = {};
  try {
    app = await loadApp(entry, timings);
  } catch (error) {
    return failBoot(error);
  }
  if (phase !== 'booting') return;
  phase = 'booted';
  const bootMs = performance.now() - startedAt;
  send({ type: 'booted', bootMs: Math.round(bootMs), importMs: Math.round(timings.importMs ?? 0) });
  if (serveRequested) await serve();
}

async function serve(): Promise<void> {
  serveRequested = true;
  if (phase !== 'booted' || sockets.filter(Boolean).length < expectedSockets || !app) return;
  phase = 'serving';
  try {
    servers = await listenOnAll(app, sockets);
    for (const server of servers) {
      server.fitKeepAliveWithin(gracefulTimeoutMs);
      if (healthPath) answerHealth(server.server, healthPath);
    }
  } catch (error) {
    phase = 'failed';
    process.stderr.write(`[fw] worker of generation ${generation} could not listen: ${String(error)}\n`);
    return exitAfterSending({ type: 'boot-error', error: serializeError(error) }, EXIT_LISTEN_ERROR);
  }
  startHeartbeat();
  // From here on an uncaught error is a crash, handled the Node way (print, exit 1).
  process.off('uncaughtException', failBoot);
  process.off('unhandledRejection', failBoot);
  send({ type: 'ready' });
}

async function listenOnAll(loaded: LoadedApp, handed: HandedSocket[]): Promise<GracefulServer[]> {
  const result: GracefulServer[] = [];
  for (const [index, socket] of handed.entries()) {
    if (loaded.kind === 'fastify' && index === 0) {
      // Fastify's own listen runs its onListen hooks. A host other than 'localhost' keeps it from
      // binding extra addresses; with a handle, net ignores host and port.
      const graceful = new GracefulServer(loaded.app.server);
      nameUnixSocket(loaded.app.server, socket.address);
      await loaded.app.listen({ handle: socket.handle, host: '0.0.0.0' });
      result.push(graceful);
      continue;
    }
    const listener = loaded.kind === 'fastify' ? loaded.app.routing.bind(loaded.app) : loaded.listener;
    const server = http.createServer(listener);
    const graceful = new GracefulServer(server);
    nameUnixSocket(server, socket.address);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socket.handle as never, () => {
        server.off('error', reject);
        resolve();
      });
    });
    result.push(graceful);
  }
  return result;
}

/**
 * Tells the master, from this process's own event loop, that the loop still turns and what the
 * worker is doing. A loop stuck in a long computation stops the heartbeats; the master notices.
 */
function startHeartbeat(): void {
  const intervalMs = Number(process.env.FW_HEARTBEAT_MS) || 1_000;
  const beat = () =>
    send({
      type: 'heartbeat',
      stats: {
        rss: process.memoryUsage.rss(),
        served: servers.reduce((sum, server) => sum + server.served, 0),
        inFlight: servers.reduce((sum, server) => sum + server.requestsInFlight, 0),
        connections: servers.reduce((sum, server) => sum + server.movableConnections, 0),
      },
    });
  beat();
  setInterval(beat, intervalMs).unref();
}

/**
 * A server that listens on a handed unix socket has no name of its own (`address()` is null,
 * which Fastify's listen cannot log). Node keeps a pipe server's name in `_pipeName`; give it the
 * path the master bound.
 */
function nameUnixSocket(server: http.Server, address: string): void {
  if (!address.startsWith('unix:')) return;
  (server as unknown as { _pipeName: string })._pipeName = address.slice('unix:'.length);
  // A unix socket's peer is on this machine, but Node reports no address for it, and an app (or
  // a trust-proxy check) then sees none. Report the loopback address instead.
  server.on('connection', (socket) => {
    Object.defineProperty(socket, 'remoteAddress', { value: '127.0.0.1', configurable: true });
  });
}

/**
 * A readiness endpoint for orchestrators: 200 while this worker serves, 503 once it drains (so a
 * load balancer stops sending to a stopping pod). A master with no ready generation has no worker
 * listening, so the probe fails then too.
 */
function answerHealth(server: http.Server, path: string): void {
  const appListeners = server.listeners('request') as ((req: http.IncomingMessage, res: http.ServerResponse) => void)[];
  server.removeAllListeners('request');
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (req.url?.split('?')[0] !== path) {
      for (const listener of appListeners) listener.call(server, req, res);
      return;
    }
    const serving = phase === 'serving';
    res.writeHead(serving ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store', ...(serving ? {} : { connection: 'close' }) });
    res.end(JSON.stringify({ ready: serving, generation: Number(generation), pid: process.pid }));
  });
}

let drained: Promise<void> | undefined;
function drain(successor = false, closeIdle = false): Promise<void> {
  drained ??= (async () => {
    phase = 'draining';
    if (forwardWhileDraining && successor) {
      servers.forEach((server, index) => {
        const address = sockets[index]?.address;
        if (address?.startsWith('http:')) forwardToSuccessor(server.server, address);
      });
    }
    const drainedServers = Promise.all(servers.map((server) => server.drain()));
    // drain() closed the listeners synchronously: nothing new reaches this worker from here on.
    send({ type: 'stopped-accepting' });
    if (closeIdle) for (const server of servers) server.closeIdleConnections();
    await drainedServers;
    if (app?.kind === 'fastify') await app.app.close();
    send({ type: 'drained' });
    process.exitCode = EXIT_OK;
    if (process.connected) process.disconnect();
    process.exit(EXIT_OK);
  })();
  return drained;
}

process.on('message', (message: unknown, handle: unknown) => {
  if (!isMasterMessage(message)) return;
  switch (message.type) {
    case 'socket':
      expectedSockets = message.count;
      sockets[message.index] = { handle, address: message.address };
      if (serveRequested) void serve();
      return;
    case 'serve':
      void serve();
      return;
    case 'drain':
      void drain(message.successor, message.closeIdle === true);
      return;
    case 'shed': {
      if (phase !== 'serving') return;
      let left = message.count;
      for (const server of servers) left -= server.shed(left);
      return;
    }
    case 'load':
      if (!isSpare || loadRequested) return;
      loadRequested = true;
      generation = String(message.generation);
      Object.assign(process.env, message.env, {
        FW_WORKER_ID: String(message.workerId),
        FW_GENERATION: String(message.generation),
        FW_BUILD_ID: message.build.id,
      });
      void warmedUp.then(() => boot(message.build.entry)).catch(failBoot);
      return;
  }
});
let loadRequested = false;

// The master is gone (killed, crashed): finish what is in flight briefly, then leave.
process.on('disconnect', () => {
  if (drained) return;
  for (const server of servers) server.closeIdleConnections();
  setTimeout(() => process.exit(EXIT_ORPHANED), ORPHAN_EXIT_MS).unref();
  void drain();
});

// Terminal and control signals are the master's to act on (Ctrl-C reaches the whole process
// group); a worker acts only on what the master tells it. SIGTERM alone (a service manager
// stopping the group) drains.
for (const signal of ['SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR2', 'SIGTTIN', 'SIGTTOU'] as const) {
  process.on(signal, () => undefined);
}
process.on('SIGTERM', () => void drain());

// Until the worker serves, any error is a boot error: the build is refused, not restarted.
process.on('uncaughtException', failBoot);
process.on('unhandledRejection', failBoot);

process.setSourceMapsEnabled(true);
const warmedUp = isSpare ? warmUp(parseWarmModules(process.env.FW_WARM_MODULES), process.cwd(), () => loadRequested) : Promise.resolve();
if (!isSpare) boot(process.env.FW_BUILD_ENTRY).catch(failBoot);
