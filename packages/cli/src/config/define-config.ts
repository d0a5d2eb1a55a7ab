/** What `fw.config.ts` may set. Command-line flags override it, and the environment does too. */
export interface FwConfig {
  /**
   * The app's entry, relative to the app folder. Default: the first of `src/app.ts`, `src/server.ts`,
   * `src/main.ts`, `src/index.ts` (or .mts, .cts, .js, .mjs, .cjs), then package.json's `main`.
   */
  entry?: string;
  /**
   * What the entry's default export is, where fw cannot tell by itself: a Fastify `'plugin'`
   * `(fastify, opts)` or a `(req, res)` `'listener'` (also `'factory'`, `'instance'`). Detected when unset.
   */
  entryKind?: 'instance' | 'factory' | 'plugin' | 'listener';
  /** TCP port to listen on. Default 3000; `PORT` and `--port` override. */
  port?: number;
  /** Address to listen on. Default `127.0.0.1`; `HOST` and `--host` override. */
  host?: string;
  /** Worker processes under `fw start`. Default: the number of CPUs; `WEB_CONCURRENCY` and `--workers` override. */
  workers?: number;
  /** Seconds a draining worker may take to finish its requests before it is killed. Default 30. */
  gracefulTimeout?: number;
  /**
   * Seconds a draining worker leaves its WebSockets and event streams to the app (whose close path
   * runs as the drain begins) before fw closes them itself (close frame 1012, or 1001 on a stop).
   * Default 5; below `gracefulTimeout`.
   */
  longLivedTimeout?: number;
  /**
   * Seconds a reloaded generation is on probation: if one of its workers crashes or stops answering
   * within them, fw rolls back to the build it replaced and `fw reload` fails. Default 5; 0 for none.
   */
  bakeTime?: number;
  /** Seconds a new worker may take to load the app and become ready. Default 30. */
  bootTimeout?: number;
  /** Seconds a worker's event loop may stay silent before it is replaced and killed. Default 30. */
  timeout?: number;
  /** Recycle a worker gracefully after this many requests (0: never). */
  maxRequests?: number;
  /** Add up to this many requests to each worker's limit, so workers do not recycle together. */
  maxRequestsJitter?: number;
  /** Recycle a worker gracefully once its resident memory exceeds this many megabytes (0: never). */
  maxMemory?: number;
  /** Listen here instead of host:port: `unix:/run/app.sock`, `127.0.0.1:3000`, several at once. */
  bind?: string[];
  /** File mode of unix sockets, as octal digits (`'660'`) or a number (`0o660`). Default 660. */
  socketMode?: string | number;
  /** Behind a proxy: which peers' X-Forwarded-* headers to believe (see docs/deploy-proxy.md). */
  proxy?: { trust?: boolean | number | string | string[] };
}

/** Identity function: gives `fw.config.ts` types and completion. */
export function defineConfig(config: FwConfig): FwConfig {
  return config;
}
