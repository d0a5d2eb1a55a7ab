import { fileURLToPath } from 'node:url';
import { forkWorker, type ForkedWorker, type ForkSpawnerOptions, type Spawner, type SpawnRequest, type WorkerProcess } from '@fwjs/core';

/** fw dev's own worker script: production's worker plus warm spares and forwarding while draining. */
export const devWorkerScript = fileURLToPath(new URL('./worker/main.js', import.meta.url));

export interface WarmSpawnerOptions extends ForkSpawnerOptions {
  /** The `.env` values, read when a worker is handed its build (a spare was started before). */
  dotenv: () => Record<string, string>;
  /**
   * How many spares to keep warming. One is enough for saves seconds apart; a second covers
   * saves that come faster than a node process warms up (about 0.3–1 s). 0 starts every worker cold.
   */
  spares: number;
}

/**
 * fw dev's spawner. A fresh Node process needs a few hundred milliseconds to load Fastify and
 * the app; a spare started ahead of time has loaded and exercised the app's dependencies already
 * and only imports the new bundle (Rails' Spring, Puma's fork_worker, in Node's terms). After a
 * rollout, `replenish()` warms the next spare in the background; two are kept by default, so a
 * quick next save finds one warm. A change to the dependencies retires the spares, so no stale
 * module is ever served.
 */
export class WarmSpawner implements Spawner {
  /** Warming or warm spares, oldest (most likely warm) first. */
  private spares: ForkedWorker[] = [];
  private warmModules: string[] = [];
  private closed = false;
  /** How the last worker was started, for --debug. */
  lastStart: 'spare' | 'cold' = 'cold';

  private readonly options: WarmSpawnerOptions;

  constructor(options: WarmSpawnerOptions) {
    this.options = { workerScript: devWorkerScript, ...options };
  }

  spawn(request: SpawnRequest): WorkerProcess {
    const identity = {
      FW_WORKER_ID: String(request.workerId),
      FW_GENERATION: String(request.generation),
      FW_BUILD_ID: request.build.id,
    };
    this.spares = this.spares.filter((spare) => !spare.exited);
    const spare = this.spares.shift();
    if (spare) {
      this.lastStart = 'spare';
      spare.send({
        type: 'load',
        workerId: request.workerId,
        generation: request.generation,
        build: request.build,
        env: this.options.dotenv(),
      });
      return spare;
    }
    this.lastStart = 'cold';
    return forkWorker(this.options, {
      ...this.options.dotenv(),
      ...identity,
      FW_BUILD_ENTRY: request.build.entry,
      ...(request.build.source ? { FW_ENTRY_SOURCE: request.build.source } : {}),
    });
  }

  /** Starts spares until there are `spares` of them, loading these packages ahead of time. */
  replenish(warmModules: string[] = this.warmModules): void {
    this.warmModules = warmModules;
    if (this.closed) return;
    this.spares = this.spares.filter((spare) => !spare.exited);
    while (this.spares.length < this.options.spares) {
      this.spares.push(forkWorker(this.options, { FW_SPARE: '1', FW_WARM_MODULES: JSON.stringify(warmModules) }));
    }
  }

  /** Drops the spares (their modules may be stale); the next ones are started by `replenish`. */
  retireSpare(): void {
    for (const spare of this.spares) spare.kill('SIGKILL');
    this.spares = [];
  }

  /** fw dev is stopping: drops the spares, and no later `replenish` starts another. */
  close(): void {
    this.closed = true;
    this.retireSpare();
  }
}
