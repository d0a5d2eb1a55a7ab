import { forkWorker, type ForkedWorker, type ForkSpawnerOptions, type Spawner, type SpawnRequest, type WorkerProcess } from '@fw/core';

export interface WarmSpawnerOptions extends ForkSpawnerOptions {
  /** The `.env` values, read when a worker is handed its build (a spare was started before). */
  dotenv: () => Record<string, string>;
}

/**
 * fw dev's spawner. A fresh Node process needs a few hundred milliseconds to load Fastify and
 * the app; a spare started ahead of time has loaded and exercised the app's dependencies already
 * and only imports the new bundle (Rails' Spring, Puma's fork_worker, in Node's terms). After a
 * rollout, `replenish()` warms the next spare in the background. A change to the dependencies
 * retires the spare, so no stale module is ever served.
 */
export class WarmSpawner implements Spawner {
  private spare: ForkedWorker | undefined;
  private warmModules: string[] = [];
  /** How the last worker was started, for --debug. */
  lastStart: 'spare' | 'cold' = 'cold';

  constructor(private readonly options: WarmSpawnerOptions) {}

  spawn(request: SpawnRequest): WorkerProcess {
    const identity = {
      FW_WORKER_ID: String(request.workerId),
      FW_GENERATION: String(request.generation),
      FW_BUILD_ID: request.build.id,
    };
    const spare = this.spare;
    this.spare = undefined;
    if (spare && !spare.exited) {
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
    return forkWorker(this.options, { ...this.options.dotenv(), ...identity, FW_BUILD_ENTRY: request.build.entry });
  }

  /** Starts the next spare if there is none, loading these packages ahead of time. */
  replenish(warmModules: string[] = this.warmModules): void {
    this.warmModules = warmModules;
    if (this.spare && !this.spare.exited) return;
    this.spare = forkWorker(this.options, { FW_SPARE: '1', FW_WARM_MODULES: JSON.stringify(warmModules) });
  }

  /** Drops the spare (its modules may be stale); the next one is started by `replenish`. */
  retireSpare(): void {
    this.spare?.kill('SIGKILL');
    this.spare = undefined;
  }
}
