import { WorkerStartError } from './errors.js';
import { EXIT_BOOT_ERROR, describeExit } from './exit-codes.js';
import type { DrainedLongLived, MasterMessage, SerializedError, WorkerMessage, WorkerStats } from './ipc.js';
import type { BuildRef, WorkerProcess } from './spawner.js';

/**
 * `starting → ready → draining → exited`, or `failed` when it died or was refused before ready.
 * A starting worker has `booted` set once its app finished start-up and it waits for `serve`.
 */
export type WorkerState = 'starting' | 'ready' | 'draining' | 'exited' | 'failed';

/** Why a healthy-looking worker is replaced: a stuck event loop, or a recycling limit. */
export type RecycleCause = 'unresponsive' | 'max-requests' | 'max-memory';

export interface WorkerInfo {
  id: number;
  pid: number | undefined;
  generation: number;
  build: string;
  state: WorkerState;
  startedAt: number;
  readyAt: number | null;
  bootTimings: { bootMs: number; importMs: number } | null;
  stats: WorkerStats | null;
  lastHeartbeatAt: number | null;
  /** When it was asked to drain (ms since the epoch). */
  drainingSince: number | null;
  /** When the master kills it if it is still alive, and why. */
  deadline: { at: number; reason: 'boot-timeout' | 'drain-timeout' } | null;
}

/** What a worker reported once its drain was over. */
export interface DrainReport {
  ms: number;
  longLived: DrainedLongLived | null;
}

export interface WorkerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * The master's view of one worker process (the code that runs inside it is `worker/main.ts`).
 * It turns the process's messages and exit into state and promises the supervisor awaits, and it
 * records deadlines; the supervisor's periodic check enforces them.
 */
export class WorkerHandle {
  state: WorkerState = 'starting';
  booted = false;
  readyAt: number | null = null;
  exit: WorkerExit | null = null;
  /** The state the worker was in when its process exited: a `ready` one had crashed. */
  exitedFrom: WorkerState | null = null;
  bootError: SerializedError | undefined;
  /** What the worker reported of its boot: importing the build, and all of loading the app. */
  bootTimings: { bootMs: number; importMs: number } | null = null;
  /** The worker's last heartbeat: when it came and what it said. */
  lastHeartbeatAt: number | null = null;
  stats: WorkerStats | null = null;
  /** Why the supervisor is replacing this worker, once it has decided to. */
  recycling: RecycleCause | null = null;
  /** Requests after which this worker is recycled (max-requests plus its own jitter). */
  maxRequests: number | null = null;
  /** Set once the supervisor has sent SIGKILL: nothing more is asked of it. */
  killed = false;
  /** When this worker must be killed if it is still alive (boot timeout or drain timeout). */
  deadline: { at: number; reason: 'boot-timeout' | 'drain-timeout' } | null = null;

  /** When it was asked to drain. */
  drainingSince: number | null = null;

  /** Called on every heartbeat (the supervisor checks the recycling limits). */
  heartbeatListener: ((worker: WorkerHandle) => void) | null = null;
  /** Called when the worker reports its drain over. */
  drainedListener: ((worker: WorkerHandle, report: DrainReport) => void) | null = null;

  readonly whenBooted: Promise<void>;
  readonly whenReady: Promise<void>;
  readonly whenExited: Promise<WorkerExit>;
  /** Resolves once the worker no longer accepts connections (it said so, or it exited). */
  readonly whenStoppedAccepting: Promise<void>;
  private resolveStoppedAccepting!: () => void;

  private settleBooted!: { resolve: () => void; reject: (error: WorkerStartError) => void };
  private settleReady!: { resolve: () => void; reject: (error: WorkerStartError) => void };
  private resolveExited!: (exit: WorkerExit) => void;

  constructor(
    readonly id: number,
    readonly generation: number,
    readonly build: BuildRef,
    private readonly process: WorkerProcess,
    readonly startedAt: number,
  ) {
    this.whenBooted = new Promise((resolve, reject) => (this.settleBooted = { resolve, reject }));
    this.whenReady = new Promise((resolve, reject) => (this.settleReady = { resolve, reject }));
    this.whenExited = new Promise((resolve) => (this.resolveExited = resolve));
    this.whenStoppedAccepting = new Promise((resolve) => (this.resolveStoppedAccepting = resolve));
    // Nobody may be waiting when a starting worker dies (a stop, a scale-down): not an unhandled error.
    this.whenBooted.catch(() => undefined);
    this.whenReady.catch(() => undefined);
    process.onMessage((message) => this.onMessage(message));
    process.onExit((code, signal) => this.onExit({ code, signal }));
  }

  get pid(): number | undefined {
    return this.process.pid;
  }

  get alive(): boolean {
    return this.exit === null;
  }

  info(): WorkerInfo {
    return {
      id: this.id,
      pid: this.pid,
      generation: this.generation,
      build: this.build.id,
      state: this.state,
      startedAt: this.startedAt,
      readyAt: this.readyAt,
      bootTimings: this.bootTimings,
      stats: this.stats,
      lastHeartbeatAt: this.lastHeartbeatAt,
      drainingSince: this.drainingSince,
      deadline: this.deadline && { ...this.deadline },
    };
  }

  send(message: MasterMessage): void {
    if (this.alive) this.process.send(message);
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.alive) this.process.kill(signal);
  }

  /** Marks a starting worker as refused (boot timeout, a sibling failed): it will never be ready. */
  refuse(why: string): void {
    this.fail(this.startError(why));
  }

  private fail(error: WorkerStartError): void {
    if (this.state !== 'starting') return;
    this.state = 'failed';
    this.settleBooted.reject(error);
    this.settleReady.reject(error);
  }

  /** Asks the worker to drain until `deadlineAt`, when the supervisor kills it. */
  drain(deadlineAt: number, othersServe = false, closeIdle = false): void {
    if (this.state === 'exited' || this.state === 'draining') return;
    if (this.state === 'starting') this.fail(this.startError('was stopped before it was ready'));
    else this.state = 'draining';
    this.drainingSince = Date.now();
    this.deadline = { at: deadlineAt, reason: 'drain-timeout' };
    this.send({ type: 'drain', othersServe, ...(closeIdle ? { closeIdle } : {}) });
  }

  private onMessage(message: WorkerMessage): void {
    switch (message.type) {
      case 'booted':
        this.booted = true;
        this.bootTimings = { bootMs: message.bootMs, importMs: message.importMs };
        this.settleBooted.resolve();
        return;
      case 'ready':
        if (this.state !== 'starting') return;
        this.state = 'ready';
        this.deadline = null;
        this.readyAt = Date.now();
        this.lastHeartbeatAt = this.readyAt;
        this.settleReady.resolve();
        return;
      case 'boot-error':
        this.bootError = message.error;
        this.fail(this.startError(`failed to start: ${message.error.message}`));
        return;
      case 'drained':
        this.drainedListener?.(this, { ms: message.ms ?? 0, longLived: message.longLived ?? null });
        return;
      case 'stopped-accepting':
        this.resolveStoppedAccepting();
        return;
      case 'heartbeat':
        this.lastHeartbeatAt = Date.now();
        this.stats = message.stats;
        this.heartbeatListener?.(this);
        return;
    }
  }

  private onExit(exit: WorkerExit): void {
    this.exit = exit;
    this.exitedFrom = this.state;
    this.deadline = null;
    if (this.state === 'starting') {
      const why = exit.code === EXIT_BOOT_ERROR && this.bootError
        ? `failed to start: ${this.bootError.message}`
        : `exited before it was ready (${describeExit(exit.code, exit.signal)})`;
      this.fail(this.startError(why));
    }
    this.state = this.state === 'failed' ? 'failed' : 'exited';
    this.resolveStoppedAccepting();
    this.resolveExited(exit);
  }

  private startError(why: string): WorkerStartError {
    return new WorkerStartError(
      `worker ${this.id} (pid ${this.pid ?? '?'}) of generation ${this.generation} ${why}`,
      this.id,
      this.generation,
      this.bootError,
    );
  }
}
