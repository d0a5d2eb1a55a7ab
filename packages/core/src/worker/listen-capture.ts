import net from 'node:net';

/** A `listen` call the app made: the server, and the callback it passed. */
export interface CapturedListen {
  server: net.Server;
  callback: (() => void) | undefined;
  /** What the app asked for (a port, a path, options), for messages. */
  asked: string;
  args: unknown[];
}

/**
 * Servers the app starts itself (`app.listen(3000)`, Nest, Koa, Hono's `serve`): inside a worker,
 * `listen` binds nothing; the call is recorded, and fw later listens that server on the master's
 * sockets, whatever port the app asked for (as node:cluster hands a worker's listen to the
 * primary). So the app's own `listen` code, callback and `await` work unchanged, and the worker
 * is ready only once the app has listened.
 */
export class ListenCapture {
  private readonly calls: CapturedListen[] = [];
  private readonly waiters = new Set<(call: CapturedListen) => void>();
  private original: typeof net.Server.prototype.listen | undefined;
  /** The servers fw attached: a later `listen` asking for their port is a second address of them. */
  private readonly attached = new Set<net.Server>();

  install(): void {
    if (this.original) return;
    const original = net.Server.prototype.listen;
    this.original = original;
    const capture = this;
    net.Server.prototype.listen = function listen(this: net.Server, ...args: unknown[]) {
      return capture.intercept(this, args);
    } as typeof original;
  }

  /**
   * The app exports its app and does not listen itself: `listen` is Node's own again (fw's listen
   * of the app, and any side server the app starts, bind for real), and any call recorded during
   * start-up is made now.
   */
  uninstall(): void {
    const original = this.original;
    if (!original) return;
    net.Server.prototype.listen = original;
    this.original = undefined;
    for (const call of this.calls.splice(0)) original.apply(call.server, call.args as Parameters<typeof original>);
  }

  /** The first server the app listened, as soon as there is one. */
  first(): CapturedListen | undefined {
    return this.calls[0];
  }

  /** How many servers the app asked to listen before fw attached them. */
  get count(): number {
    return this.calls.length;
  }

  /** Resolves with the first listen call (now if there was one). */
  next(): Promise<CapturedListen> {
    const first = this.calls[0];
    if (first) return Promise.resolve(first);
    return new Promise((resolve) => this.waiters.add(resolve));
  }

  /** Really listens `server` on a handle the master owns, running the callback the app gave. */
  listenOnHandle(server: net.Server, handle: unknown, callback?: () => void): Promise<void> {
    const original = this.original ?? net.Server.prototype.listen;
    this.attached.add(server);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      original.call(server, handle as net.ListenOptions, () => {
        server.off('error', reject);
        resolve();
      });
      if (callback) server.once('listening', callback);
    });
  }

  private intercept(server: net.Server, args: unknown[]): net.Server {
    const last = args.at(-1);
    const callback = typeof last === 'function' ? (last as () => void) : undefined;
    const asked = describeListen(args);
    if (this.attached.size > 0) {
      // After fw attached the app's server: Fastify, asked for `localhost`, binds the other
      // loopback address with a second server on the same port and ignores its error. Any other
      // server cannot listen under fw: say so on that server, as a failed bind would.
      const ports = new Set([...this.attached].map((each) => (each.address() as net.AddressInfo | null)?.port));
      const samePort = ports.has(askedPort(args));
      const error = Object.assign(
        new Error(samePort
          ? `fw: ${asked} is already served on fw's sockets`
          : `fw: a second server (${asked}) cannot listen in an fw worker: fw serves one server on the sockets it binds`),
        { code: 'EADDRINUSE' },
      );
      process.nextTick(() => server.emit('error', error));
      return server;
    }
    const call = { server, callback, asked, args };
    this.calls.push(call);
    for (const waiter of this.waiters) waiter(call);
    this.waiters.clear();
    return server;
  }
}

function askedPort(args: unknown[]): number | undefined {
  const [first] = args;
  if (typeof first === 'number') return first;
  if (typeof first === 'string' && /^\d+$/.test(first)) return Number(first);
  if (first && typeof first === 'object' && 'port' in first) return Number((first as { port: unknown }).port);
  return undefined;
}

function describeListen(args: unknown[]): string {
  const [first, second] = args;
  if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    return `port ${first}${typeof second === 'string' ? ` on ${second}` : ''}`;
  }
  if (typeof first === 'string') return `the path ${first}`;
  if (first && typeof first === 'object') {
    const options = first as { port?: unknown; host?: unknown; path?: unknown };
    if (options.path !== undefined) return `the path ${String(options.path)}`;
    return `port ${String(options.port ?? 0)}${options.host ? ` on ${String(options.host)}` : ''}`;
  }
  return 'a random port';
}
