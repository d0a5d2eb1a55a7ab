/**
 * The worker's side of the lifecycle: the code that runs inside every worker process. Loads the
 * app (the app contract), awaits its start-up, reports `booted`; on `serve` listens on the handed
 * sockets and reports `ready`; on `drain` stops accepting, lets in-flight requests finish, closes
 * the app and exits. It exits when its master's IPC channel closes: no orphans.
 *
 * The production worker script (main.ts) runs it as it is; fw dev's worker script adds warm spares
 * and forwarding while draining through the hooks below.
 */
import http from 'node:http';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { EXIT_BOOT_ERROR, EXIT_LISTEN_ERROR, EXIT_OK, EXIT_ORPHANED } from '../exit-codes.js';
import { isMasterMessage, type MasterMessage, serializeError, tag, type WorkerMessage } from '../ipc.js';
import { defaultFastifyOptions } from './fastify-defaults.js';
import { forwardToSuccessor } from './forward-to-successor.js';
import { GracefulServer } from './graceful-server.js';
import { ListenCapture } from './listen-capture.js';
import { isEntryKind, type LoadedApp, loadApp } from './load-app.js';
import { CLOSE_GOING_AWAY, CLOSE_SERVICE_RESTART, type LongLivedClosed } from './long-lived.js';
import { defaultFastifyTrustProxy } from './trust-proxy.js';
import { watchMaster } from './watchdog.js';

const ORPHAN_EXIT_MS = 2_000;

export interface HandedSocket {
  handle: unknown;
  address: string;
}

/** The worker's own view of where it is: the same names as the master's view of it. */
export type AppWorkerState = 'starting' | 'booted' | 'ready' | 'draining' | 'failed';

export interface AppWorkerHooks {
  /** A master message the base worker does not handle (fw dev's `load`). */
  onMessage?(message: MasterMessage): void;
}

export class AppWorker {
  private readonly gracefulTimeoutMs = Number(process.env.FW_GRACEFUL_TIMEOUT_MS) || 30_000;
  /** How long a drain leaves WebSockets and event streams to the app; never past the graceful timeout. */
  private readonly longLivedTimeoutMs = Math.min(
    Number(process.env.FW_LONG_LIVED_TIMEOUT_MS) || 5_000,
    Math.max(0, this.gracefulTimeoutMs - 1_000),
  );
  /** While draining: when fw ends the long-lived connections still open. */
  private longLivedCloseAt: number | undefined;
  /** The app heard SIGTERM from fw's drain: it ends the process its own way. */
  private appHandlesSigterm = false;
  /** `fw start --health-path`: answered by fw itself, before the app (see answerHealth). */
  private readonly healthPath = process.env.FW_HEALTH_PATH || undefined;
  private generation = process.env.FW_GENERATION ?? '?';
  private readonly sockets: HandedSocket[] = [];
  private expectedSockets = Number.POSITIVE_INFINITY;
  private app: LoadedApp | undefined;
  private servers: GracefulServer[] = [];
  private state: AppWorkerState = 'starting';
  private serveRequested = false;
  private drained: Promise<void> | undefined;
  /** The app's own `listen` calls (a server.ts that listens): served on the master's sockets. */
  private readonly capture = new ListenCapture();
  private readonly failBoot = (error: unknown) => this.fail(error);
  /** A SIGTERM sent to the worker itself (a service manager stopping the process group). */
  private readonly onSigterm = () => {
    this.sigtermReceived = true;
    void this.drain();
  };
  private sigtermReceived = false;

  constructor(private readonly hooks: AppWorkerHooks = {}) {}

  /** Listens to the master, its signals and, until the worker serves, uncaught errors. */
  attach(): void {
    process.on('message', (message: unknown, handle: unknown) => {
      if (isMasterMessage(message)) this.handle(message, handle);
    });
    // The master is gone (killed, crashed): finish what is in flight briefly, then leave; a
    // watchdog thread ends the process if its event loop is too stuck to notice.
    process.on('disconnect', () => this.orphaned());
    watchMaster();
    // Terminal and control signals are the master's to act on (Ctrl-C reaches the whole process
    // group); a worker acts only on what the master tells it. SIGTERM alone (a service manager
    // stopping the group) drains.
    for (const signal of ['SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR2', 'SIGTTIN', 'SIGTTOU'] as const) {
      process.on(signal, () => undefined);
    }
    process.on('SIGTERM', this.onSigterm);
    // Until the worker serves, any error is a boot error: the build is refused, not restarted.
    process.on('uncaughtException', this.failBoot);
    process.on('unhandledRejection', this.failBoot);
    process.setSourceMapsEnabled(true);
    // Before anything loads fastify (a warm spare loads it ahead of the app).
    defaultFastifyOptions();
  }

  /** Set by a spare once it learns which generation it boots for. */
  setGeneration(generation: number): void {
    this.generation = String(generation);
  }

  async boot(entry: string | undefined, source = process.env.FW_ENTRY_SOURCE): Promise<void> {
    if (!entry) return this.fail(new Error('FW_BUILD_ENTRY is not set: a worker is started by the fw master'));
    const startedAt = performance.now();
    if (process.env.FW_TRUST_PROXY) defaultFastifyTrustProxy();
    const timings: { importMs?: number } = {};
    // The master fails a worker at the boot timeout; an entry that never listens is told a
    // little before, with a message that says why.
    const bootTimeoutMs = Number(process.env.FW_BOOT_TIMEOUT_MS) || 30_000;
    try {
      const declared = process.env.FW_ENTRY_KIND;
      this.capture.install();
      this.app = await loadApp(entry, timings, {
        declared: isEntryKind(declared) ? declared : undefined,
        capture: this.capture,
        listenWithinMs: Math.max(1_000, bootTimeoutMs - 1_000),
        source,
      });
      if (this.app.kind !== 'server') this.capture.uninstall();
    } catch (error) {
      return this.fail(error);
    }
    if (this.state !== 'starting') return;
    this.state = 'booted';
    const bootMs = performance.now() - startedAt;
    this.send({ type: 'booted', bootMs: Math.round(bootMs), importMs: Math.round(timings.importMs ?? 0) });
    if (this.serveRequested) await this.serve();
  }

  /** Reports a failed start to the master and exits: the build is refused. */
  fail(error: unknown): void {
    if (this.state === 'failed') return;
    this.state = 'failed';
    const serialized = serializeError(error);
    // The master prints it with its own context; say it here only if there is no master to tell.
    if (!process.connected) {
      process.stderr.write(`[fw] worker of generation ${this.generation} failed to start:\n${serialized.stack ?? serialized.message}\n`);
    }
    this.exitAfterSending({ type: 'boot-error', error: serialized }, EXIT_BOOT_ERROR);
  }

  private handle(message: MasterMessage, handle: unknown): void {
    switch (message.type) {
      case 'socket':
        this.expectedSockets = message.count;
        this.sockets[message.index] = { handle, address: message.address };
        if (this.serveRequested) void this.serve();
        return;
      case 'serve':
        void this.serve();
        return;
      case 'drain':
        void this.drain(message.othersServe, message.closeIdle === true);
        return;
      case 'shed': {
        if (this.state !== 'ready') return;
        let left = message.count;
        for (const server of this.servers) left -= server.shed(left);
        return;
      }
      default:
        this.hooks.onMessage?.(message);
    }
  }

  private async serve(): Promise<void> {
    this.serveRequested = true;
    if (this.state !== 'booted' || this.sockets.filter(Boolean).length < this.expectedSockets || !this.app) return;
    this.state = 'ready';
    try {
      this.servers = await listenOnAll(this.app, this.sockets, this.capture);
      for (const server of this.servers) {
        server.fitKeepAliveWithin(this.gracefulTimeoutMs);
        if (this.healthPath) this.answerHealth(server.server, this.healthPath);
      }
    } catch (error) {
      this.state = 'failed';
      process.stderr.write(`[fw] worker of generation ${this.generation} could not listen: ${String(error)}\n`);
      return this.exitAfterSending({ type: 'boot-error', error: serializeError(error) }, EXIT_LISTEN_ERROR);
    }
    this.startHeartbeat();
    // From here on an uncaught error is a crash, handled the Node way (print, exit 1).
    process.off('uncaughtException', this.failBoot);
    process.off('unhandledRejection', this.failBoot);
    this.send({ type: 'ready' });
  }

  /**
   * Stops accepting and lets what is under way finish (graceful-server.ts); the app hears it at
   * once (its close path, see hearDrain), and what it leaves open of its long-lived connections
   * fw ends at the long-lived timeout. `othersServe`: other workers go on serving the same sockets
   * (a reload, a recycle), so late requests on kept-alive connections are passed on to them.
   */
  drain(othersServe = false, closeIdle = false): Promise<void> {
    this.drained ??= (async () => {
      this.state = 'draining';
      const startedAt = Date.now();
      const drainedServers = Promise.all(this.servers.map((server) => server.drain()));
      // drain() closed the listeners synchronously: nothing new reaches this worker from here on.
      this.send({ type: 'stopped-accepting' });
      if (othersServe) {
        for (const [index, server] of this.servers.entries()) {
          const address = this.sockets[index]?.address;
          if (address) server.answerWith(forwardToSuccessor(address));
        }
      }
      if (closeIdle) for (const server of this.servers) server.closeIdleConnections();
      const open = this.longLivedCounts();
      const longLived = this.closeLongLivedLater(othersServe ? CLOSE_SERVICE_RESTART : CLOSE_GOING_AWAY);
      let reported!: () => void;
      const report = new Promise<void>((resolve) => (reported = resolve));
      const appClosed = this.hearDrain(report);
      await drainedServers;
      await appClosed;
      longLived.cancel();
      await this.sendAndWait({ type: 'drained', ms: Date.now() - startedAt, longLived: { ...open, closed: longLived.closed(), code: longLived.code } });
      reported();
      process.exitCode = EXIT_OK;
      if (process.connected) process.disconnect();
      // An app that heard SIGTERM ends its own way (Nest re-raises the signal, an Express app calls
      // process.exit in server.close's callback); the master's graceful timeout bounds it.
      if (this.appHandlesSigterm) return;
      process.exit(EXIT_OK);
    })();
    return this.drained;
  }

  /**
   * The app's close path, run as the worker stops accepting: a Fastify app is closed (its
   * `preClose` hooks, where @fastify/websocket closes its clients; `onClose` once the last request
   * is answered, since its server's close is fw's drain); any other app that listens for SIGTERM
   * hears it now, as it would from a service manager, with `server.close()` waiting for fw's drain.
   */
  private hearDrain(drained: Promise<unknown>): Promise<unknown> {
    const app = this.app;
    if (app?.kind === 'fastify') {
      const primary = this.servers.find((server) => server.server === app.app.server);
      if (primary) routeCloseToDrain(primary);
      return Promise.resolve(app.app.close()).catch((error: unknown) => {
        process.stderr.write(`[fw] the app's close failed while draining: ${String(error)}\n`);
      });
    }
    if (app && appListensFor('SIGTERM')) {
      this.appHandlesSigterm = true;
      // fw's own handler goes first, so an app that re-raises the signal once it is done (Nest's
      // shutdown hooks, Apollo) ends the process as it means to.
      process.off('SIGTERM', this.onSigterm);
      holdExitUntil(drained);
      // A real SIGTERM reaches the app's handlers right after fw's: it must not hear it twice.
      if (!this.sigtermReceived) process.emit('SIGTERM', 'SIGTERM');
    }
    return Promise.resolve();
  }

  private longLivedCounts(): { upgraded: number; eventStreams: number } {
    let upgraded = 0;
    let eventStreams = 0;
    for (const server of this.servers) {
      upgraded += server.longLived.upgradedCount;
      eventStreams += server.longLived.eventStreams().length;
    }
    return { upgraded, eventStreams };
  }

  /** Ends the WebSockets and event streams the app left open, `longLivedTimeoutMs` from now. */
  private closeLongLivedLater(code: number) {
    let closed: LongLivedClosed | null = null;
    this.longLivedCloseAt = Date.now() + this.longLivedTimeoutMs;
    const timer = setTimeout(() => {
      closed = { websockets: 0, eventStreams: 0, other: 0 };
      for (const server of this.servers) {
        const each = server.closeLongLived(code);
        closed.websockets += each.websockets;
        closed.eventStreams += each.eventStreams;
        closed.other += each.other;
      }
    }, this.longLivedTimeoutMs);
    timer.unref();
    return { code, cancel: () => clearTimeout(timer), closed: () => closed };
  }

  private orphaned(): void {
    if (this.drained) return;
    for (const server of this.servers) server.closeIdleConnections();
    setTimeout(() => process.exit(EXIT_ORPHANED), ORPHAN_EXIT_MS).unref();
    void this.drain();
  }

  private send(message: WorkerMessage): void {
    if (process.connected) process.send?.(tag(message), undefined, undefined, () => undefined);
  }

  /** Resolves once the message is written to the channel (or there is no channel). */
  private sendAndWait(message: WorkerMessage): Promise<void> {
    return new Promise((resolve) => {
      if (!process.connected || !process.send) return resolve();
      process.send(tag(message), undefined, undefined, () => resolve());
    });
  }

  /** Exits once the master has the message (a boot error must reach it), or after a short grace. */
  private exitAfterSending(message: WorkerMessage, code: number): void {
    process.exitCode = code;
    setTimeout(() => process.exit(code), 1_000).unref();
    if (!process.connected || !process.send) process.exit(code);
    process.send(tag(message), undefined, undefined, () => process.exit(code));
  }

  /**
   * Tells the master, from this process's own event loop, that the loop still turns and what the
   * worker is doing. A loop stuck in a long computation stops the heartbeats; the master notices.
   */
  private startHeartbeat(): void {
    const intervalMs = Number(process.env.FW_HEARTBEAT_MS) || 1_000;
    const beat = () =>
      this.send({
        type: 'heartbeat',
        stats: {
          rss: process.memoryUsage.rss(),
          served: this.servers.reduce((sum, server) => sum + server.served, 0),
          inFlight: this.servers.reduce((sum, server) => sum + server.requestsInFlight, 0),
          connections: this.servers.reduce((sum, server) => sum + server.movableConnections, 0),
          ...this.longLivedCounts(),
          ...(this.longLivedCloseAt !== undefined ? { longLivedCloseAt: this.longLivedCloseAt } : {}),
        },
      });
    beat();
    setInterval(beat, intervalMs).unref();
  }

  /**
   * A readiness endpoint for orchestrators: 200 while this worker serves, 503 once it drains (so a
   * load balancer stops sending to a stopping pod). A master with no ready generation has no worker
   * listening, so the probe fails then too.
   */
  private answerHealth(server: http.Server, path: string): void {
    const appListeners = server.listeners('request') as ((req: http.IncomingMessage, res: http.ServerResponse) => void)[];
    server.removeAllListeners('request');
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      if (req.url?.split('?')[0] !== path) {
        for (const listener of appListeners) listener.call(server, req, res);
        return;
      }
      const serving = this.state === 'ready';
      res.writeHead(serving ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store', ...(serving ? {} : { connection: 'close' }) });
      res.end(JSON.stringify({ ready: serving, generation: Number(this.generation), pid: process.pid }));
    });
  }
}

/** True when someone besides fw listens for `signal` (fw's own handler is the first). */
function appListensFor(signal: NodeJS.Signals): boolean {
  return process.listenerCount(signal) > 1;
}

async function listenOnAll(loaded: LoadedApp, handed: HandedSocket[], capture: ListenCapture): Promise<GracefulServer[]> {
  if (loaded.kind === 'server') return [await attachAppServer(loaded.listen.server as http.Server, loaded.listen.callback, handed, capture)];
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
 * The server the app listened itself: listened on the first of the master's sockets (its callback,
 * its `await`, its `address()` as if it had bound fw's port), fed the connections of the others.
 * Its `close()` becomes fw's drain: Node's own would cut idle kept-alive connections at once
 * (since Node 19), while their clients may be sending.
 */
async function attachAppServer(server: http.Server, callback: (() => void) | undefined, handed: HandedSocket[], capture: ListenCapture): Promise<GracefulServer> {
  const graceful = new GracefulServer(server);
  const [first, ...others] = handed;
  if (!first) throw new Error('no socket was handed to this worker');
  nameUnixSocket(server, first.address);
  await capture.listenOnHandle(server, first.handle, callback);
  for (const socket of others) {
    const feeder = net.createServer((connection) => server.emit('connection', connection));
    await capture.listenOnHandle(feeder, socket.handle);
    graceful.addFeeder(feeder as unknown as http.Server);
  }
  routeCloseToDrain(graceful);
  return graceful;
}

/**
 * The app's own `server.close()` (Fastify's close, Nest's, an Express SIGTERM handler's) becomes
 * fw's drain: Node's would cut idle kept-alive connections at once (since Node 19), while their
 * clients may be sending; its callback runs once the last connection is gone.
 */
function routeCloseToDrain(graceful: GracefulServer): void {
  const server = graceful.server;
  server.close = function close(this: http.Server, done?: (error?: Error) => void) {
    void graceful.drain().then(() => done?.());
    return this;
  } as typeof server.close;
  // Fastify's close() ends idle connections itself: under fw they end after their next response
  // or at their keep-alive timeout, as every drain does.
  server.closeIdleConnections = () => undefined;
}

/**
 * An app that heard SIGTERM may call `process.exit()` at once; requests still under way would be
 * cut. Its exit waits for fw's drain (bounded by the master's graceful timeout).
 */
function holdExitUntil(drained: Promise<unknown>): void {
  const exit = process.exit.bind(process);
  let exiting = false;
  process.exit = ((code?: number | string | null) => {
    if (code !== undefined && code !== null) process.exitCode = code;
    if (exiting) return undefined as never;
    exiting = true;
    void drained.finally(() => exit());
    return undefined as never;
  }) as typeof process.exit;
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
    // Only a unix peer: TCP connections handed in from another socket keep their own address.
    if (socket.remoteAddress === undefined) Object.defineProperty(socket, 'remoteAddress', { value: '127.0.0.1', configurable: true });
  });
}
