import { EventEmitter } from 'node:events';
import { defaultBackoff, restartDelay, type BackoffPolicy } from './backoff.js';
import { CommandQueue } from './command-queue.js';
import { LaunchFailed, RolloutAborted, WorkerStartError } from './errors.js';
import { describeExit } from './exit-codes.js';
import { type DrainedLongLived, serializeError, type SerializedError } from './ipc.js';
import type { BuildRef, Spawner } from './spawner.js';
import { WorkerHandle, type RecycleCause, type WorkerExit, type WorkerInfo } from './worker-handle.js';
import { connectionsToShed } from './connection-balance.js';

export interface SupervisorOptions {
  spawner: Spawner;
  /** The build the next generation runs; rejects when there is none (the rollout is refused). */
  resolveBuild: () => Promise<BuildRef>;
  /** How many workers serve at once. */
  workers: number;
  /** A new worker not ready within this is killed and its generation refused. */
  bootTimeoutMs?: number;
  /** A draining worker still alive after this is killed. */
  gracefulTimeoutMs?: number;
  /**
   * After a reload, the new generation is on probation this long: a crash or an unresponsive kill
   * of one of its workers rolls back to the build it replaced. 0 (the default) bakes nothing.
   */
  bakeTimeMs?: number;
  backoff?: BackoffPolicy;
  /** How often recorded deadlines are checked. */
  checkIntervalMs?: number;
  /** A ready worker silent for longer than this is killed at once, then replaced. */
  heartbeatTimeoutMs?: number;
  /** Recycle a worker after this many requests, plus a random 0..jitter of its own. */
  maxRequests?: { limit: number; jitter: number };
  /** Recycle a worker whose resident memory exceeds this many bytes. */
  maxMemoryBytes?: number;
  /**
   * At most this often, a worker holding well over its share of the kept-alive connections is asked to
   * let some go after their next response (connection-balance.ts). 0 never asks.
   */
  balanceIntervalMs?: number;
}

export type RolloutOutcome =
  | { ok: true; generation: number; build: BuildRef; ms: number }
  | {
      ok: false;
      generation: number | null;
      error: SerializedError;
      ms: number;
      /** Set when the generation failed within its bake time: the generation that serves the previous build again. */
      rolledBack?: { generation: number; build: string } | null;
    };

export type RetireReason = 'reload' | 'refused' | 'rolled-back' | 'scale-down' | 'stop' | RecycleCause;

export type SupervisorEvent =
  | { type: 'worker-started'; worker: WorkerInfo }
  | { type: 'worker-ready'; worker: WorkerInfo }
  | { type: 'rollout-started'; generation: number; build: BuildRef; workers: number }
  | { type: 'generation-ready'; generation: number; build: BuildRef; ms: number; pids: (number | undefined)[] }
  | { type: 'rollout-refused'; generation: number | null; error: SerializedError }
  /** A generation failed within its bake time: fw starts the build it replaced again. */
  | { type: 'rollback-started'; generation: number; why: string; build: BuildRef }
  | { type: 'rolled-back'; generation: number; to: number; build: BuildRef; ms: number }
  | { type: 'rollback-failed'; generation: number; error: SerializedError }
  | { type: 'worker-draining'; worker: WorkerInfo; reason: RetireReason }
  /** The drain is over; `longLived`: the WebSockets and event streams it had to wait on. */
  | { type: 'worker-drained'; worker: WorkerInfo; ms: number; longLived: DrainedLongLived | null }
  | { type: 'worker-exited'; worker: WorkerInfo; exit: WorkerExit; expected: boolean }
  | { type: 'worker-killed'; worker: WorkerInfo; reason: KillReason }
  | { type: 'worker-recycling'; worker: WorkerInfo; cause: RecycleCause; detail: string; restartInMs?: number }
  | { type: 'worker-crashed'; worker: WorkerInfo; exit: WorkerExit; restartInMs: number }
  | { type: 'replacement-failed'; generation: number; error: SerializedError; retryInMs: number }
  | { type: 'scaled'; workers: number }
  | { type: 'connections-shed'; worker: WorkerInfo; count: number; connections: number; total: number; workers: number }
  | { type: 'stopped' };

export type KillReason = 'boot-timeout' | 'drain-timeout' | 'stop' | 'unresponsive';

/** Counts since the master started, for status and metrics. */
export interface SupervisorCounters {
  /** Workers replaced, by why. */
  restarts: Record<'crash' | RecycleCause, number>;
  reloads: { ok: number; refused: number; rolledBack: number };
}

export interface SupervisorStatus {
  generation: number | null;
  build: string | null;
  desiredWorkers: number;
  stopping: boolean;
  workers: WorkerInfo[];
  lastRollout: RolloutOutcome | null;
  /** The generation on probation after a reload, and until when (ms since the epoch). */
  baking: { generation: number; until: number } | null;
  counters: SupervisorCounters;
}

/** How often, at most, workers over their share of connections are asked to let some go. */
const DEFAULT_BALANCE_INTERVAL_MS = 5_000;

/** How long a rollout waits for the old workers to stop accepting before it reports success. */
const STOP_ACCEPTING_WAIT_MS = 2_000;

/**
 * One per master: the desired worker count, the current build, and the workers grouped in
 * generations. Every command (start, reload, scale, replace) runs through one queue, one at a time;
 * a worker's exit only records a fact and enqueues. Stop is the exception: it preempts a rollout.
 */
export class Supervisor {
  private readonly queue = new CommandQueue();
  private readonly workers = new Set<WorkerHandle>();
  private readonly events = new EventEmitter();
  private readonly bootTimeoutMs: number;
  private readonly gracefulTimeoutMs: number;
  private readonly bakeTimeMs: number;
  /** The generation on probation, and how a crash of one of its workers fails it. */
  private baking: { generation: number; until: number; fail: (why: string) => void } | null = null;
  private readonly backoff: BackoffPolicy;
  private readonly checkIntervalMs: number;
  private desired: number;
  private nextWorkerId = 1;
  private lastGeneration = 0;
  private current: { generation: number; build: BuildRef } | null = null;
  private lastRollout: RolloutOutcome | null = null;
  private pendingReload: Promise<RolloutOutcome> | null = null;
  /** When workers were last asked to let connections go (balanceConnections). */
  private lastBalanceAt = 0;
  private stopping: Promise<void> | null = null;
  private readonly rolloutAbort = new AbortController();
  private readonly crashTimes: number[] = [];
  private readonly replacementTimers = new Set<NodeJS.Timeout>();
  private ticker: NodeJS.Timeout | null = null;
  /**
   * Set by a stop whose caller knows no client will send on an idle connection again (a proxy
   * already routes elsewhere): workers close idle kept-alive connections at once.
   */
  private closeIdleOnStop = false;
  /** Set by a stop after a new master took the sockets over (`fw upgrade`): its workers serve them. */
  private socketsHandedOver = false;
  private readonly counters: SupervisorCounters = {
    restarts: { crash: 0, unresponsive: 0, 'max-requests': 0, 'max-memory': 0 },
    reloads: { ok: 0, refused: 0, rolledBack: 0 },
  };

  constructor(private readonly options: SupervisorOptions) {
    if (!Number.isInteger(options.workers) || options.workers < 1) {
      throw new RangeError(`workers must be a whole number of at least 1, got ${options.workers}`);
    }
    this.desired = options.workers;
    this.bootTimeoutMs = options.bootTimeoutMs ?? 30_000;
    this.gracefulTimeoutMs = options.gracefulTimeoutMs ?? 30_000;
    this.bakeTimeMs = options.bakeTimeMs ?? 0;
    this.backoff = options.backoff ?? defaultBackoff;
    this.checkIntervalMs = options.checkIntervalMs ?? 100;
  }

  on(listener: (event: SupervisorEvent) => void): () => void {
    this.events.on('event', listener);
    return () => this.events.off('event', listener);
  }

  /** Starts the first generation. */
  start(): Promise<RolloutOutcome> {
    return this.queue.run(() => this.rollout());
  }

  /**
   * Rolls out a new generation on the latest build. A reload asked for while another is queued
   * joins it; one asked for during a rollout becomes a single follow-up, so every caller learns the
   * outcome of a rollout that began after it asked.
   */
  reload(): Promise<RolloutOutcome> {
    if (this.pendingReload) return this.pendingReload;
    const reload = this.queue.run(() => {
      this.pendingReload = null;
      return this.rollout();
    });
    this.pendingReload = reload;
    return reload;
  }

  /** One worker more (+1) or fewer (-1); never below one. */
  scale(delta: number): Promise<number> {
    return this.queue.run(() => this.applyScale(delta));
  }

  /**
   * Graceful stop: every worker drains, then the promise resolves. With `force`, or when called
   * again with `force` during a graceful stop, every worker is killed at once.
   */
  stop(options: { force?: boolean; closeIdle?: boolean; socketsHandedOver?: boolean } = {}): Promise<void> {
    if (options.force) for (const worker of this.workers) this.kill(worker, 'stop');
    if (this.stopping) return this.stopping;
    this.closeIdleOnStop = options.closeIdle === true;
    this.socketsHandedOver = options.socketsHandedOver === true;
    this.stopping = this.stopAll();
    return this.stopping;
  }

  status(): SupervisorStatus {
    return {
      generation: this.current?.generation ?? null,
      build: this.current?.build.id ?? null,
      desiredWorkers: this.desired,
      stopping: this.stopping !== null,
      workers: [...this.workers].map((worker) => worker.info()),
      lastRollout: this.lastRollout,
      baking: this.baking && { generation: this.baking.generation, until: this.baking.until },
      counters: structuredClone(this.counters),
    };
  }

  private async rollout(): Promise<RolloutOutcome> {
    const startedAt = Date.now();
    const refuse = (generation: number | null, error: unknown): RolloutOutcome => {
      const outcome: RolloutOutcome = { ok: false, generation, error: describeStartError(error), ms: Date.now() - startedAt };
      this.lastRollout = outcome;
      this.counters.reloads.refused++;
      this.emit({ type: 'rollout-refused', generation, error: outcome.error });
      return outcome;
    };
    if (this.stopping) return refuse(null, new RolloutAborted());

    let build: BuildRef;
    try {
      build = await this.options.resolveBuild();
    } catch (error) {
      return refuse(null, error);
    }
    if (this.stopping) return refuse(null, new RolloutAborted());

    const replaced = this.current;
    let generation: number;
    try {
      generation = await this.launch(build);
    } catch (error) {
      return refuse(error instanceof LaunchFailed ? error.generation : null, error instanceof LaunchFailed ? error.cause : error);
    }

    this.current = { generation, build };
    const outcome: RolloutOutcome = { ok: true, generation, build, ms: Date.now() - startedAt };
    this.lastRollout = outcome;
    this.counters.reloads.ok++;
    this.emit({ type: 'generation-ready', generation, build, ms: outcome.ms, pids: this.generationWorkers(generation).map((worker) => worker.pid) });
    const previous = [...this.workers].filter((worker) => worker.generation !== generation);
    for (const worker of previous) this.retire(worker, 'reload');
    // The rollout is done when only the new generation accepts: every old worker has closed its
    // listeners (a moment after `drain`). Bounded, so a stuck old worker cannot hold it up.
    await Promise.race([
      Promise.all(previous.map((worker) => worker.whenStoppedAccepting)),
      new Promise((resolve) => setTimeout(resolve, STOP_ACCEPTING_WAIT_MS).unref?.()),
    ]);
    if (!replaced || this.bakeTimeMs <= 0) return outcome;
    const failure = await this.bake(generation);
    if (failure === null) return outcome;
    this.counters.reloads.ok--;
    return this.rollBack(generation, failure, replaced, startedAt);
  }

  /**
   * Starts a generation of `build` and waits until every one of its workers is ready (the health
   * gate); its workers are stopped if one fails. Resolves with the generation's number.
   */
  private async launch(build: BuildRef): Promise<number> {
    const generation = ++this.lastGeneration;
    this.emit({ type: 'rollout-started', generation, build, workers: this.desired });
    const fresh: WorkerHandle[] = [];
    try {
      for (let i = 0; i < this.desired; i++) fresh.push(this.spawnWorker(generation, build));
      // Health gate: the generation serves only once every one of its workers has booted.
      await this.unlessStopping(Promise.all(fresh.map((worker) => worker.whenBooted)));
      for (const worker of fresh) worker.send({ type: 'serve' });
      // A worker that was ready and exits while its siblings are still starting fails the
      // generation too: its exit is no crash to replace (the generation is not current yet).
      const lostReady = new Promise<never>((_, reject) => {
        for (const worker of fresh) {
          void worker.whenExited.then((exit) => {
            if (worker.exitedFrom !== 'ready') return;
            const why = `exited before its generation was ready (${describeExit(exit.code, exit.signal)})`;
            reject(new WorkerStartError(`worker ${worker.id} (pid ${worker.pid ?? '?'}) of generation ${generation} ${why}`, worker.id, generation, undefined));
          });
        }
      });
      lostReady.catch(() => undefined);
      await this.unlessStopping(Promise.race([Promise.all(fresh.map((worker) => worker.whenReady)), lostReady]));
    } catch (error) {
      for (const worker of fresh) this.retire(worker, 'refused');
      throw new LaunchFailed(generation, error);
    }
    return generation;
  }

  /**
   * Keeps a new generation on probation for the bake time. Resolves with why it failed (a worker
   * crashed or was killed as unresponsive), or null once the bake time is over or a stop began.
   */
  private bake(generation: number): Promise<string | null> {
    return new Promise((resolve) => {
      const end = (why: string | null) => {
        clearTimeout(timer);
        this.rolloutAbort.signal.removeEventListener('abort', stopped);
        this.baking = null;
        resolve(why);
      };
      const stopped = () => end(null);
      const timer = setTimeout(() => end(null), this.bakeTimeMs);
      this.rolloutAbort.signal.addEventListener('abort', stopped, { once: true });
      this.baking = { generation, until: Date.now() + this.bakeTimeMs, fail: end };
    });
  }

  /** The generation failed its bake: the build it replaced serves again, and the reload reports the failure. */
  private async rollBack(failed: number, why: string, replaced: { build: BuildRef }, startedAt: number): Promise<RolloutOutcome> {
    const message = `generation ${failed} failed within its ${this.bakeTimeMs / 1000} s bake time: ${why}`;
    this.emit({ type: 'rollback-started', generation: failed, why: message, build: replaced.build });
    let rolledBack: { generation: number; build: string } | null = null;
    try {
      const generation = await this.launch(replaced.build);
      this.current = { generation, build: replaced.build };
      for (const worker of this.generationWorkers(failed)) this.retire(worker, 'rolled-back');
      rolledBack = { generation, build: replaced.build.id };
      this.emit({ type: 'rolled-back', generation: failed, to: generation, build: replaced.build, ms: Date.now() - startedAt });
    } catch (error) {
      // The previous build cannot start again either: the new generation goes on, its crashes replaced.
      this.emit({ type: 'rollback-failed', generation: failed, error: describeStartError(error instanceof LaunchFailed ? error.cause : error) });
    }
    this.counters.reloads.rolledBack++;
    const outcome: RolloutOutcome = {
      ok: false,
      generation: failed,
      error: {
        name: 'RolledBack',
        message: rolledBack
          ? `${message}; rolled back to build ${rolledBack.build} (generation ${rolledBack.generation})`
          : `${message}; the rollback to build ${replaced.build.id} failed too`,
      },
      ms: Date.now() - startedAt,
      rolledBack,
    };
    this.lastRollout = outcome;
    return outcome;
  }

  private generationWorkers(generation: number): WorkerHandle[] {
    return [...this.workers].filter((worker) => worker.generation === generation);
  }

  private async applyScale(delta: number): Promise<number> {
    if (this.stopping) return this.desired;
    this.desired = Math.max(1, this.desired + delta);
    if (this.current) {
      const serving = this.servingWorkers();
      if (serving.length > this.desired) {
        // The oldest goes first: it has had the longest to leak.
        for (const worker of serving.slice(0, serving.length - this.desired)) this.retire(worker, 'scale-down');
      }
      for (let missing = this.desired - serving.length; missing > 0; missing--) {
        await this.addWorker(this.current.generation);
      }
    }
    this.emit({ type: 'scaled', workers: this.desired });
    return this.desired;
  }

  /**
   * Starts one more worker of the current generation (a crash replacement, a recycling, a
   * scale-up) if fewer than the desired number serve. True once the new worker is ready.
   */
  private async addWorker(generation: number): Promise<boolean> {
    if (this.stopping || !this.current || this.current.generation !== generation) return false;
    if (this.servingWorkers().length >= this.desired) return false;
    const worker = this.spawnWorker(generation, this.current.build);
    try {
      await this.unlessStopping(worker.whenBooted);
      worker.send({ type: 'serve' });
      await this.unlessStopping(worker.whenReady);
      return true;
    } catch (error) {
      this.retire(worker, 'refused');
      if (this.stopping) return false;
      this.recordCrash();
      const retryInMs = Math.max(this.backoff.initialMs, restartDelay(this.crashTimes, Date.now(), this.backoff));
      this.emit({ type: 'replacement-failed', generation, error: describeStartError(error), retryInMs });
      this.scheduleReplacement(generation, retryInMs);
      return false;
    }
  }

  /**
   * Replaces a worker that looks alive but must go. One over a limit is replaced first: its
   * replacement must be ready before it drains, and it keeps serving if none could start. An
   * unresponsive one is killed at once, as gunicorn's arbiter does: its event loop is stuck, so it
   * serves nothing, and it burns a core its replacement needs to boot.
   */
  private recycle(worker: WorkerHandle, cause: RecycleCause, detail: string): void {
    if (worker.recycling || worker.state !== 'ready' || this.stopping) return;
    worker.recycling = cause;
    if (cause === 'unresponsive') {
      // A worker that keeps getting stuck backs off like one that keeps crashing: its replacement
      // waits longer each time, so a stuck loop cannot spin the machine.
      this.recordCrash();
      const restartInMs = restartDelay(this.crashTimes, Date.now(), this.backoff);
      this.emit({ type: 'worker-recycling', worker: worker.info(), cause, detail, restartInMs });
      this.counters.restarts.unresponsive++;
      this.kill(worker, 'unresponsive');
      if (restartInMs > 0) this.scheduleReplacement(worker.generation, restartInMs);
      else void this.queue.run(() => this.addWorker(worker.generation));
      return;
    }
    this.emit({ type: 'worker-recycling', worker: worker.info(), cause, detail });
    void this.queue.run(async () => {
      const replaced = await this.addWorker(worker.generation);
      if (!worker.alive) return;
      if (replaced || this.current?.generation !== worker.generation) {
        this.counters.restarts[cause]++;
        this.retire(worker, cause);
      } else {
        worker.recycling = null;
      }
    });
  }

  /** On every heartbeat: the recycling limits, then the spread of connections. */
  private onHeartbeat(worker: WorkerHandle): void {
    this.checkLimits(worker);
    this.balanceConnections();
  }

  private balanceConnections(): void {
    const interval = this.options.balanceIntervalMs ?? DEFAULT_BALANCE_INTERVAL_MS;
    const now = Date.now();
    if (interval <= 0 || this.stopping || now - this.lastBalanceAt < interval) return;
    const serving = this.servingWorkers();
    // Only with a count from every serving worker, and none of them still starting.
    if (serving.length < 2 || serving.some((worker) => worker.state !== 'ready' || worker.stats?.connections === undefined)) return;
    const counts = serving.map((worker) => ({ id: worker.id, connections: worker.stats!.connections! }));
    const shed = connectionsToShed(counts);
    if (shed.size === 0) return;
    this.lastBalanceAt = now;
    const total = counts.reduce((sum, { connections }) => sum + connections, 0);
    for (const worker of serving) {
      const count = shed.get(worker.id);
      if (!count) continue;
      worker.send({ type: 'shed', count });
      this.emit({ type: 'connections-shed', worker: worker.info(), count, connections: worker.stats!.connections!, total, workers: serving.length });
    }
  }

  private checkLimits(worker: WorkerHandle): void {
    const stats = worker.stats;
    if (!stats || worker.recycling || worker.state !== 'ready') return;
    if (worker.maxRequests !== null && stats.served >= worker.maxRequests) {
      this.recycle(worker, 'max-requests', `served ${stats.served} requests (limit ${worker.maxRequests})`);
    } else if (this.options.maxMemoryBytes && stats.rss > this.options.maxMemoryBytes) {
      const mb = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MB`;
      this.recycle(worker, 'max-memory', `uses ${mb(stats.rss)} (limit ${mb(this.options.maxMemoryBytes)})`);
    }
  }

  private spawnWorker(generation: number, build: BuildRef): WorkerHandle {
    const id = this.nextWorkerId++;
    const process = this.options.spawner.spawn({ workerId: id, generation, build });
    const worker = new WorkerHandle(id, generation, build, process, Date.now());
    worker.deadline = { at: Date.now() + this.bootTimeoutMs, reason: 'boot-timeout' };
    const { maxRequests } = this.options;
    if (maxRequests) worker.maxRequests = maxRequests.limit + Math.floor(Math.random() * (maxRequests.jitter + 1));
    worker.heartbeatListener = (handle) => this.onHeartbeat(handle);
    worker.drainedListener = (handle, report) => this.emit({ type: 'worker-drained', worker: handle.info(), ms: report.ms, longLived: report.longLived });
    this.workers.add(worker);
    this.emit({ type: 'worker-started', worker: worker.info() });
    worker.whenReady.then(() => {
      // A new worker (a rollout, a replacement, TTIN) starts with no kept-alive connection: look
      // at the spread again as soon as the counts show it, not only after the interval.
      this.lastBalanceAt = 0;
      this.emit({ type: 'worker-ready', worker: worker.info() });
    }, () => undefined);
    void worker.whenExited.then((exit) => this.onWorkerExit(worker, exit));
    this.ensureTicker();
    return worker;
  }

  /**
   * Takes a worker out of service. One that never booted has accepted nothing and is killed;
   * any other drains (finishes what it has, answers `Connection: close`) until its deadline.
   */
  private retire(worker: WorkerHandle, reason: RetireReason): void {
    if (!worker.alive || worker.state === 'draining' || worker.killed) return;
    if (worker.state === 'failed') {
      // Already refused and on its way out; only make sure it does not linger.
      worker.deadline ??= { at: Date.now() + this.gracefulTimeoutMs, reason: 'drain-timeout' };
      this.ensureTicker();
      return;
    }
    if (worker.state === 'starting' && !worker.booted) {
      worker.refuse(reason === 'stop' ? 'was stopped before it was ready' : 'was refused with its generation');
      worker.kill('SIGKILL');
      return;
    }
    this.emit({ type: 'worker-draining', worker: { ...worker.info(), state: 'draining' }, reason });
    // Only a stop leaves the sockets to nobody (unless a new master took them over): otherwise a
    // newer generation or the siblings serve them.
    const othersServe = reason !== 'stop' || this.socketsHandedOver;
    worker.drain(Date.now() + this.gracefulTimeoutMs, othersServe, reason === 'stop' && this.closeIdleOnStop);
    this.ensureTicker();
  }

  private kill(worker: WorkerHandle, reason: KillReason): void {
    if (!worker.alive) return;
    if (reason === 'unresponsive' && this.baking?.generation === worker.generation) {
      this.baking.fail(`worker ${worker.id} (pid ${worker.pid ?? '?'}) stopped answering heartbeats and was killed`);
    }
    if (reason === 'boot-timeout') worker.refuse(`did not become ready within ${this.bootTimeoutMs / 1000} s (boot timeout)`);
    worker.deadline = null;
    worker.killed = true;
    this.emit({ type: 'worker-killed', worker: worker.info(), reason });
    worker.kill('SIGKILL');
  }

  private onWorkerExit(worker: WorkerHandle, exit: WorkerExit): void {
    this.workers.delete(worker);
    // A worker the supervisor itself replaced (recycled, killed as unresponsive) did not crash.
    const crashed = worker.exitedFrom === 'ready' && !worker.recycling && !worker.killed;
    this.emit({ type: 'worker-exited', worker: worker.info(), exit, expected: !crashed });
    if (crashed && this.baking?.generation === worker.generation) {
      const readyFor = worker.readyAt === null ? '' : ` ${((Date.now() - worker.readyAt) / 1000).toFixed(1)} s after it was ready`;
      this.baking.fail(`worker ${worker.id} (pid ${worker.pid ?? '?'}) exited${readyFor} (${describeExit(exit.code, exit.signal)})`);
    }
    if (!crashed || this.stopping || this.current?.generation !== worker.generation) return;
    this.recordCrash();
    this.counters.restarts.crash++;
    const restartInMs = restartDelay(this.crashTimes, Date.now(), this.backoff);
    this.emit({ type: 'worker-crashed', worker: worker.info(), exit, restartInMs });
    this.scheduleReplacement(worker.generation, restartInMs);
  }

  /** Remembers a crash for the back-off; crashes older than its window are forgotten. */
  private recordCrash(): void {
    const now = Date.now();
    this.crashTimes.push(now);
    while (this.crashTimes.length > 0 && now - this.crashTimes[0]! >= this.backoff.windowMs) this.crashTimes.shift();
  }

  private scheduleReplacement(generation: number, delayMs: number): void {
    const timer = setTimeout(() => {
      this.replacementTimers.delete(timer);
      void this.queue.run(() => this.addWorker(generation));
    }, delayMs);
    this.replacementTimers.add(timer);
  }

  private async stopAll(): Promise<void> {
    this.rolloutAbort.abort();
    for (const timer of this.replacementTimers) clearTimeout(timer);
    this.replacementTimers.clear();
    while (this.workers.size > 0) {
      for (const worker of this.workers) this.retire(worker, 'stop');
      await Promise.all([...this.workers].map((worker) => worker.whenExited));
    }
    await this.queue.idle();
    this.stopTicker();
    this.emit({ type: 'stopped' });
  }

  private servingWorkers(): WorkerHandle[] {
    return [...this.workers]
      .filter((worker) => worker.generation === this.current?.generation && !worker.recycling && (worker.state === 'starting' || worker.state === 'ready'))
      .sort((a, b) => a.startedAt - b.startedAt || a.id - b.id);
  }

  /** Rejects as soon as a stop begins, so a stop never waits for a slow boot. */
  private unlessStopping<T>(promise: Promise<T>): Promise<T> {
    const signal = this.rolloutAbort.signal;
    if (signal.aborted) return Promise.reject(new RolloutAborted());
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(new RolloutAborted());
      signal.addEventListener('abort', onAbort, { once: true });
      promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  /** Deadlines are recorded when they are set; this one periodic check enforces them. */
  private checkDeadlines(): void {
    const now = Date.now();
    let pending = false;
    // Workers that never booted first: when a generation times out, the error names one that hung,
    // not a sibling that booted and was waiting for it.
    const order = [...this.workers].sort((a, b) => Number(a.booted) - Number(b.booted));
    for (const worker of order) {
      this.checkHeartbeat(worker, now);
      if (!worker.deadline) continue;
      if (now >= worker.deadline.at) this.kill(worker, worker.deadline.reason);
      else pending = true;
    }
    const watching = this.options.heartbeatTimeoutMs !== undefined && this.workers.size > 0;
    if (!pending && !watching) this.stopTicker();
  }

  private checkHeartbeat(worker: WorkerHandle, now: number): void {
    const timeout = this.options.heartbeatTimeoutMs;
    if (timeout === undefined || worker.state !== 'ready' || worker.lastHeartbeatAt === null) return;
    const silentMs = now - worker.lastHeartbeatAt;
    if (silentMs > timeout) this.recycle(worker, 'unresponsive', `no heartbeat for ${(silentMs / 1000).toFixed(1)} s (timeout ${timeout / 1000} s)`);
  }

  private ensureTicker(): void {
    if (this.ticker) return;
    this.ticker = setInterval(() => this.checkDeadlines(), this.checkIntervalMs);
  }

  private stopTicker(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = null;
  }

  private emit(event: SupervisorEvent): void {
    this.events.emit('event', event);
  }
}

function describeStartError(error: unknown): SerializedError {
  if (error instanceof WorkerStartError && error.workerError) {
    // The worker's own stack is what a person needs; the message says which worker it was. Its
    // code too when it has one (FW_APP_CONTRACT says more than FW_WORKER_START).
    const { name, stack, code } = error.workerError;
    return { name, message: error.message, ...(stack ? { stack } : {}), code: code ?? error.code };
  }
  return serializeError(error);
}
