/**
 * Fakes for the supervisor's unit tests: a spawner whose workers are scripted, per generation and
 * per worker, and never start a process. Every delay is a `setTimeout`, so vitest's fake timers
 * drive the workers and the supervisor on one clock.
 */
import { vi } from 'vitest';
import { EXIT_BOOT_ERROR, EXIT_OK } from '../src/exit-codes.js';
import type { MasterMessage, SerializedError, WorkerMessage } from '../src/ipc.js';
import type { Spawner, SpawnRequest, WorkerProcess } from '../src/spawner.js';

/** What one fake worker does on its own; anything else a test does by hand (`emit`, `exit`). */
export interface FakeBehaviour {
  /**
   * After `bootMs`: `ok` sends `booted`; `boot-error` sends `boot-error` and exits with code 3 (as
   * the real bootstrap does); `exit` exits with `exitCode` without a word; `hang` does nothing.
   */
  boot: 'ok' | 'boot-error' | 'exit' | 'hang';
  bootMs: number;
  exitCode: number;
  error: SerializedError;
  /** On `serve`, after `readyMs`: `ready` sends `ready`; `exit` exits with `exitCode`; `hang` does nothing. */
  serve: 'ready' | 'exit' | 'hang';
  readyMs: number;
  /** On `drain`, after `drainMs`: `exit` exits with code 0; `ignore` keeps running. */
  drain: 'exit' | 'ignore';
  drainMs: number;
}

export const okBehaviour: FakeBehaviour = {
  boot: 'ok',
  bootMs: 50,
  exitCode: 1,
  error: { name: 'Error', message: 'boom', stack: 'Error: boom\n    at boot (/app/src/app.ts:1:1)' },
  serve: 'ready',
  readyMs: 5,
  drain: 'exit',
  drainMs: 20,
};

export interface Sent {
  message: MasterMessage;
  at: number;
}

export interface Killed {
  signal: NodeJS.Signals;
  at: number;
}

export class FakeWorker implements WorkerProcess {
  readonly sent: Sent[] = [];
  readonly kills: Killed[] = [];
  exited: { code: number | null; signal: NodeJS.Signals | null; at: number } | null = null;
  private readonly messageListeners: ((message: WorkerMessage) => void)[] = [];
  private readonly exitListeners: ((code: number | null, signal: NodeJS.Signals | null) => void)[] = [];

  constructor(
    readonly request: SpawnRequest,
    readonly pid: number,
    /** The how-manieth worker of its generation this is (0-based). */
    readonly index: number,
    readonly behaviour: FakeBehaviour,
  ) {
    // Always later than spawn(): the supervisor subscribes right after spawn returns.
    this.later(behaviour.bootMs, () => {
      switch (behaviour.boot) {
        case 'ok':
          return this.emit({ type: 'booted', bootMs: behaviour.bootMs, importMs: 0 });
        case 'boot-error':
          this.emit({ type: 'boot-error', error: behaviour.error });
          return this.later(1, () => this.exit(EXIT_BOOT_ERROR));
        case 'exit':
          return this.exit(behaviour.exitCode);
        case 'hang':
          return;
      }
    });
  }

  get workerId(): number {
    return this.request.workerId;
  }

  get generation(): number {
    return this.request.generation;
  }

  get alive(): boolean {
    return this.exited === null;
  }

  /** The types of the messages the master sent, in order. */
  sentTypes(): MasterMessage['type'][] {
    return this.sent.map((sent) => sent.message.type);
  }

  sentAt(type: MasterMessage['type']): number | undefined {
    return this.sent.find((sent) => sent.message.type === type)?.at;
  }

  killSignals(): NodeJS.Signals[] {
    return this.kills.map((kill) => kill.signal);
  }

  send(message: MasterMessage): void {
    this.sent.push({ message, at: Date.now() });
    if (!this.alive) return;
    if (message.type === 'serve') {
      const { serve, readyMs, exitCode } = this.behaviour;
      if (serve === 'ready') this.later(readyMs, () => this.emit({ type: 'ready' }));
      else if (serve === 'exit') this.later(readyMs, () => this.exit(exitCode));
    } else if (message.type === 'drain') {
      // A real worker closes its listeners at once, whatever its requests in flight still need.
      this.later(0, () => this.emit({ type: 'stopped-accepting' }));
      if (this.behaviour.drain === 'exit') this.later(this.behaviour.drainMs, () => this.exit(EXIT_OK));
    }
  }

  /** A real process dies of a signal a moment later, with a null code. */
  kill(signal: NodeJS.Signals): void {
    this.kills.push({ signal, at: Date.now() });
    if (this.alive) this.later(0, () => this.exit(null, signal));
  }

  onMessage(listener: (message: WorkerMessage) => void): void {
    this.messageListeners.push(listener);
  }

  onExit(listener: (code: number | null, signal: NodeJS.Signals | null) => void): void {
    this.exitListeners.push(listener);
  }

  /** Sends a message to the master as this worker (ignored once it has exited). */
  emit(message: WorkerMessage): void {
    if (!this.alive) return;
    for (const listener of this.messageListeners) listener(message);
  }

  /** Ends the process (only the first exit counts). */
  exit(code: number | null, signal: NodeJS.Signals | null = null): void {
    if (!this.alive) return;
    this.exited = { code, signal, at: Date.now() };
    for (const listener of this.exitListeners) listener(code, signal);
  }

  /** An unexpected death. */
  crash(code = 1): void {
    this.exit(code);
  }

  private later(ms: number, action: () => void): void {
    setTimeout(() => {
      if (this.alive) action();
    }, ms);
  }
}

type Plan = Partial<FakeBehaviour> | Partial<FakeBehaviour>[];

/**
 * Starts FakeWorkers. `plan(generation, behaviour)` scripts a generation: one behaviour for all of
 * its workers, or a list by the order they are spawned in (later ones get the defaults).
 */
export class FakeSpawner implements Spawner {
  readonly workers: FakeWorker[] = [];
  readonly spawn = vi.fn((request: SpawnRequest): WorkerProcess => this.start(request));
  private readonly plans = new Map<number, Plan>();
  private nextPid = 1001;

  constructor(private readonly defaults: Partial<FakeBehaviour> = {}) {}

  plan(generation: number, plan: Plan): this {
    this.plans.set(generation, plan);
    return this;
  }

  ofGeneration(generation: number): FakeWorker[] {
    return this.workers.filter((worker) => worker.generation === generation);
  }

  byId(workerId: number): FakeWorker {
    const worker = this.workers.find((candidate) => candidate.workerId === workerId);
    if (!worker) throw new Error(`no fake worker ${workerId}`);
    return worker;
  }

  alive(): FakeWorker[] {
    return this.workers.filter((worker) => worker.alive);
  }

  /** The distinct generations spawned so far, in order. */
  generations(): number[] {
    return [...new Set(this.workers.map((worker) => worker.generation))];
  }

  private start(request: SpawnRequest): FakeWorker {
    const index = this.ofGeneration(request.generation).length;
    const plan = this.plans.get(request.generation);
    const own = Array.isArray(plan) ? plan[index] : plan;
    const worker = new FakeWorker(request, this.nextPid++, index, { ...okBehaviour, ...this.defaults, ...own });
    this.workers.push(worker);
    return worker;
  }
}
