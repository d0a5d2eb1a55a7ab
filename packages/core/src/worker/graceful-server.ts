import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import net, { type Socket } from 'node:net';
import { type LongLivedClosed, LongLivedConnections } from './long-lived.js';

/**
 * Drains an HTTP server the way design.md describes, without the keep-alive race:
 *
 * 1. stop accepting: close only the listening side (`net.Server`'s close; http's own `close()`
 *    would also cut idle kept-alive connections at once, while their clients may be sending);
 * 2. every response not yet started, and every later one, carries `Connection: close`, and Node
 *    closes that connection right after it;
 * 3. an idle kept-alive connection is closed by Node once it has been idle for the keep-alive
 *    timeout the server announced (`Keep-Alive: timeout=N`), after which no client reuses it;
 * 4. resolve once the last connection is gone. The master enforces the graceful timeout.
 *
 * Long-lived connections (WebSockets, event streams) never end on their own: see long-lived.ts.
 *
 * Unlike Fastify's own `close()`, a draining worker never answers 503 (`return503OnClosing`).
 */
export class GracefulServer {
  private draining = false;
  private listening = false;
  private readonly inFlight = new Set<ServerResponse>();
  /** Open connections that have carried an HTTP request (an upgraded WebSocket never does). */
  private readonly httpSockets = new Set<Socket>();
  /** Connections to end after their next response, to spread them over the workers (`shed`). */
  private readonly shedding = new WeakSet<Socket>();
  /** Responses completed since the worker started. */
  served = 0;
  private drained: Promise<void> | undefined;
  /** The server's own, kept before an app's `closeIdleConnections` is routed to fw's drain. */
  private readonly closeIdle: () => void;
  /** Servers that only hand their connections to this one (the extra sockets of a `listen` entry). */
  private readonly feeders: Server[] = [];
  readonly longLived: LongLivedConnections;

  constructor(readonly server: Server) {
    this.closeIdle = typeof server.closeIdleConnections === 'function' ? server.closeIdleConnections.bind(server) : () => undefined;
    this.longLived = new LongLivedConnections(server, this.inFlight);
    server.prependListener('request', this.track);
    server.once('listening', () => {
      this.listening = true;
    });
  }

  /** Counts every request and marks its response; always the first `request` listener. */
  private readonly track = (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    if (this.draining || this.shedding.has(socket)) closeAfter(res);
    if (!this.httpSockets.has(socket)) {
      this.httpSockets.add(socket);
      socket.once('close', () => this.httpSockets.delete(socket));
    }
    this.inFlight.add(res);
    res.once('close', () => {
      this.inFlight.delete(res);
      this.served++;
    });
  };

  /** From now on requests are answered by `handler` instead of the app (a draining worker's forwarding). */
  answerWith(handler: RequestListener): void {
    this.server.removeAllListeners('request');
    this.server.on('request', this.track);
    this.server.on('request', handler);
  }

  /**
   * An idle kept-alive connection ends when its announced keep-alive timeout runs out. If that is
   * longer than the graceful timeout (Fastify announces 72 s), the kill at the graceful timeout
   * would cut idle connections a client may be reusing; announce a timeout that ends first.
   */
  fitKeepAliveWithin(gracefulTimeoutMs: number): void {
    const limit = Math.max(1_000, gracefulTimeoutMs - 1_000);
    if (this.server.keepAliveTimeout === 0 || this.server.keepAliveTimeout > limit) this.server.keepAliveTimeout = limit;
  }

  /** Requests under way, event streams left out (they are long-lived, see `longLived`). */
  get requestsInFlight(): number {
    return this.inFlight.size - this.longLived.eventStreams().length;
  }

  /**
   * Connections a `Connection: close` could move: idle kept-alive ones, and those whose response
   * has not started yet. A streaming response (its headers sent) or an upgraded socket cannot be
   * moved, so it is not counted: a worker full of them is never asked to shed in vain.
   */
  get movableConnections(): number {
    return this.httpSockets.size - this.streamingSockets().size;
  }

  /** Sockets whose response is under way with its headers sent: a `Connection: close` is too late for it. */
  private streamingSockets(): Set<Socket> {
    const streaming = new Set<Socket>();
    for (const res of this.inFlight) if (res.headersSent && res.socket) streaming.add(res.socket);
    return streaming;
  }

  /**
   * Lets up to `count` connections go, each right after its next response (a response under way
   * counts), never an idle one at once: its client may be sending on it (design.md's drain rule).
   * Returns how many were marked.
   */
  shed(count: number): number {
    let marked = 0;
    for (const res of this.inFlight) {
      if (marked >= count) break;
      if (res.headersSent || this.shedding.has(res.socket!)) continue;
      closeAfter(res);
      this.shedding.add(res.socket!);
      marked++;
    }
    const streaming = this.streamingSockets();
    for (const socket of this.httpSockets) {
      if (marked >= count) break;
      if (this.shedding.has(socket) || streaming.has(socket)) continue;
      this.shedding.add(socket);
      marked++;
    }
    return marked;
  }

  /** A server listening on another of the master's sockets, whose connections this one serves. */
  addFeeder(feeder: Server): void {
    this.feeders.push(feeder);
  }

  /** Resolves when every connection has ended. Asked again, the same drain. */
  drain(): Promise<void> {
    this.drained ??= (async () => {
      this.draining = true;
      for (const res of this.inFlight) closeAfter(res);
      this.longLived.closeAfterEventStreams();
      // A feeder's connections are counted on the feeder: its close waits for them.
      const closing = this.feeders.map((feeder) => new Promise<void>((resolve) => net.Server.prototype.close.call(feeder, () => resolve())));
      if (this.listening) closing.push(new Promise<void>((resolve) => net.Server.prototype.close.call(this.server, () => resolve())));
      await Promise.all(closing);
    })();
    return this.drained;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** Ends the WebSockets and event streams still open (the long-lived timeout of a drain). */
  closeLongLived(code: number): LongLivedClosed {
    return this.longLived.closeAll(code);
  }

  /** For a worker whose master is gone: idle connections are closed now, not at their timeout. */
  closeIdleConnections(): void {
    this.closeIdle();
  }
}

function closeAfter(res: ServerResponse): void {
  if (!res.headersSent) res.setHeader('connection', 'close');
}
