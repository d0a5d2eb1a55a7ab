import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { AppContractError } from '../errors.js';
import { describe, detectEntryKind, ENTRY_KINDS, type EntryExports, type EntryKind } from './entry-kind.js';
import type { CapturedListen, ListenCapture } from './listen-capture.js';

/** The part of a Fastify instance fw uses; duck-typed so core does not depend on Fastify. */
export interface FastifyLike {
  server: Server;
  ready(): PromiseLike<unknown>;
  listen(options: Record<string, unknown>): Promise<string>;
  close(): PromiseLike<unknown>;
  routing(req: IncomingMessage, res: ServerResponse): void;
  register(plugin: unknown, options?: unknown): unknown;
}

export type LoadedApp =
  | { kind: 'fastify'; app: FastifyLike }
  | { kind: 'listener'; listener: RequestListener }
  /** The app called `listen` itself: fw attaches that server to the master's sockets. */
  | { kind: 'server'; listen: CapturedListen };

const contract =
  'The entry must default-export a Fastify instance, a function returning one, a Fastify plugin ' +
  '(fastify, opts), or a (req, res) request listener.';

export interface LoadTimings {
  importMs?: number;
}

export interface LoadOptions {
  /** fw.config.ts `entryKind`: settles what detection cannot. */
  declared?: EntryKind | undefined;
  /** Installed before the import: records the app's own `listen` calls. */
  capture?: ListenCapture;
  /** How long an entry that exports no app may take to call `listen`. */
  listenWithinMs?: number;
  /** The entry's source file, relative to the app (for messages). */
  source?: string | undefined;
}

/**
 * Imports the built entry and turns its default export into something fw can serve, awaiting the
 * app's own start-up (`ready()` for Fastify). What the export is gets decided here, once: see
 * entry-kind.ts. `declared` (fw.config.ts `entryKind`) settles what detection cannot.
 */
export async function loadApp(entry: string, timings: LoadTimings = {}, options: LoadOptions = {}): Promise<LoadedApp> {
  try {
    return await load(entry, timings, options);
  } catch (error) {
    // Name the file the developer wrote (src/server.ts), not its place in the release.
    if (error instanceof AppContractError && options.source) {
      error.message = error.message.replaceAll(entry, options.source);
      error.stack = error.stack?.replaceAll(entry, options.source);
    }
    throw error;
  }
}

async function load(entry: string, timings: LoadTimings, options: LoadOptions): Promise<LoadedApp> {
  const { declared, capture } = options;
  const startedAt = performance.now();
  const importing = import(pathToFileURL(entry).href) as Promise<Record<string, unknown>>;
  // A server.ts may `await app.listen()` at its top level: its import ends only once it listens
  // for real, which fw does after boot. Its listen call is the end of its boot.
  const first = capture ? await Promise.race([importing, capture.next().then(() => undefined)]) : await importing;
  timings.importMs = performance.now() - startedAt;
  if (first === undefined) {
    // What the rest of the module throws is the app's failure: at boot a refused build, later a crash.
    importing.catch((error: unknown) => setImmediate(() => {
      throw error;
    }));
    return listened(entry, capture!);
  }
  const module = first;
  const exports = entryExports(module);
  // It listened while loading: that server is the app, unless it exports an app that is not that
  // server (then what listened is a side server, a metrics port say, and the export is the app).
  if (capture && capture.count > 0 && (exports.default === undefined || servesExport(capture, exports.default))) return listened(entry, capture);
  if (exports.default === undefined) {
    if (!capture) throw new AppContractError(`${entry} has no default export. ${contract}`);
    // A server.ts that builds its app asynchronously (connects, then listens): wait for its listen.
    return waitForListen(entry, capture, options.listenWithinMs ?? 30_000);
  }
  const detected = declared ? { kind: declared, why: `entryKind: '${declared}' in fw.config.ts` } : detectEntryKind(exports, isFastify);
  switch (detected.kind) {
    case 'invalid':
      throw new AppContractError(`The default export of ${entry} is ${detected.why}. ${contract}`);
    case 'ambiguous':
      throw new AppContractError(
        `The default export of ${entry} is ${detected.why}: fw cannot tell a Fastify plugin (fastify, opts) from a (req, res) listener. ` +
          `Say which in fw.config.ts: entryKind: 'plugin' or entryKind: 'listener'.`,
      );
    case 'instance':
      return readyFastify(exports.default, entry, detected.why);
    case 'factory': {
      const made = await (exports.default as () => unknown)();
      if (typeof made === 'function' && !isFastify(made)) return { kind: 'listener', listener: made as RequestListener };
      return readyFastify(made, entry, `what its factory returned (${describe(made)})`);
    }
    case 'plugin':
      return readyFastify(await registerPlugin(entry, exports), entry, 'the plugin');
    case 'listener':
      if (typeof exports.default !== 'function') throw new AppContractError(`The default export of ${entry} is ${describe(exports.default)}, not a (req, res) listener (${detected.why}).`);
      return { kind: 'listener', listener: exports.default as RequestListener };
  }
}

/** True when a server the app listened answers with its default export (`app.listen()` of an exported app). */
function servesExport(capture: ListenCapture, exported: unknown): boolean {
  const server = capture.first()?.server;
  if (!server) return false;
  if ((exported as { server?: unknown } | null)?.server === server) return true;
  return server.listeners('request').includes(exported as (...args: unknown[]) => void);
}

async function waitForListen(entry: string, capture: ListenCapture, withinMs: number): Promise<LoadedApp> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new AppContractError(
        `${entry} has no default export and did not call listen() within ${Math.round(withinMs / 1000)} s. ` +
          `${contract} Or it may call listen() itself (app.listen(process.env.PORT)), as a server.ts does.`,
      ));
    }, withinMs);
  });
  try {
    await Promise.race([capture.next(), timeout]);
  } finally {
    clearTimeout(timer);
  }
  return listened(entry, capture);
}

/** The app listened: one server, given a moment for a second listen in the same start-up step. */
async function listened(entry: string, capture: ListenCapture): Promise<LoadedApp> {
  await new Promise((resolve) => setImmediate(resolve));
  if (capture.count > 1) {
    throw new AppContractError(
      `${entry} listens on ${capture.count} servers; under fw an app listens on one, and fw serves it on every socket it binds (--bind).`,
    );
  }
  return { kind: 'server', listen: capture.first()! };
}

export function isEntryKind(value: string | undefined): value is EntryKind {
  return ENTRY_KINDS.includes(value as EntryKind);
}

/**
 * The default export and `options`, looking through CommonJS: a module compiled from ES syntax
 * (`__esModule`) or written as `module.exports = { default, options }` has its exports one level in.
 */
function entryExports(module: Record<string, unknown>): EntryExports {
  const outer = module.default as Record<string, unknown> | undefined;
  const nested =
    outer !== null && typeof outer === 'object' && !isFastify(outer) && ('__esModule' in outer || typeof outer.default === 'function')
      ? outer
      : undefined;
  const source = nested ?? module;
  // A CommonJS module that exports nothing (a server.js that only listens) imports as `{}`.
  const value = nested === undefined && isEmptyObject(source.default) ? undefined : source.default;
  const options = source.options ?? (typeof value === 'function' ? (value as unknown as Record<string, unknown>).options : undefined);
  return { default: value, options };
}

function isEmptyObject(value: unknown): boolean {
  return value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype && Reflect.ownKeys(value).length === 0;
}

async function readyFastify(value: unknown, entry: string, what: string): Promise<LoadedApp> {
  if (!isFastify(value)) throw new AppContractError(`${what} in ${entry} is ${describe(value)}, not a Fastify instance. ${contract}`);
  await value.ready();
  return { kind: 'fastify', app: value };
}

/**
 * Runs a plugin entry the way `fastify start` does: a Fastify instance made with the exported
 * `options` (from the app's own fastify), the plugin registered without encapsulation (as
 * fastify-plugin would), `ready()` awaited by the caller.
 */
async function registerPlugin(entry: string, exports: EntryExports): Promise<FastifyLike> {
  let fastify: (options: Record<string, unknown>) => FastifyLike;
  try {
    fastify = createRequire(entry)('fastify') as typeof fastify;
  } catch {
    throw new AppContractError(`${entry} exports a Fastify plugin, but fastify cannot be loaded from the app: add it (npm install fastify).`);
  }
  const exported = exports.options;
  const serverOptions: Record<string, unknown> = {
    logger: { level: process.env.LOG_LEVEL ?? 'info' },
    ...(process.env.FW_TRUST_PROXY ? { trustProxy: JSON.parse(process.env.FW_TRUST_PROXY) as unknown } : {}),
    ...(exported !== null && typeof exported === 'object' ? (exported as Record<string, unknown>) : {}),
  };
  const app = fastify(serverOptions);
  const plugin = exports.default as (...args: unknown[]) => unknown;
  const open =
    plugin.length >= 3
      ? (instance: unknown, options: unknown, done: unknown) => plugin(instance, options, done)
      : (instance: unknown, options: unknown) => plugin(instance, options);
  (open as unknown as Record<symbol, unknown>)[Symbol.for('skip-override')] = true;
  app.register(open, {});
  return app;
}

function isFastify(value: unknown): value is FastifyLike {
  if (typeof value !== 'object' && typeof value !== 'function') return false;
  if (value === null) return false;
  const candidate = value as Partial<Record<keyof FastifyLike, unknown>>;
  return typeof candidate.ready === 'function' && typeof candidate.routing === 'function' &&
    typeof candidate.listen === 'function' && typeof candidate.server === 'object';
}
