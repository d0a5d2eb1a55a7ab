import type { SerializedError } from './ipc.js';

/**
 * The base of every error fw throws on purpose. `code` is stable across releases (docs/errors.md
 * lists each one): programs and people switch on it, never on the message, which may be reworded,
 * nor on `name`, which only names a class that may move or be renamed. Each package keeps its own
 * classes in its errors.ts.
 */
export abstract class FwError extends Error {
  /** `FW_…`, one per class; set by each subclass as a literal, so a `switch` on it is type-checked. */
  abstract readonly code: string;
}

/** The latest build is missing, damaged or cannot be read: nothing to start or reload. */
export class NoBuildError extends FwError {
  override readonly code = 'FW_NO_BUILD';
  override name = 'NoBuildError';
  /** True when the build is there but cannot be read (permissions, a link loop): not a missing build. */
  readonly unreadable: boolean;
  constructor(message: string, unreadable = false) {
    super(message);
    this.unreadable = unreadable;
  }
}

/** The entry does not export what fw can serve (thrown in the worker, reported by the master). */
export class AppContractError extends FwError {
  override readonly code = 'FW_APP_CONTRACT';
  override name = 'AppContractError';
}

/** Why a worker of a new generation never became ready: carries the worker's own stack. */
export class WorkerStartError extends FwError {
  override readonly code = 'FW_WORKER_START';
  constructor(
    message: string,
    readonly workerId: number,
    readonly generation: number,
    readonly workerError: SerializedError | undefined,
  ) {
    super(message);
    this.name = 'WorkerStartError';
  }
}

/** A listening socket could not be opened, adopted or inherited (port in use, no permission…). */
export class BindError extends FwError {
  override readonly code = 'FW_BIND_FAILED';
  override name = 'BindError';
}

/**
 * A generation that did not become ready: its number, and why. The supervisor unwraps it, so
 * what a person sees is the cause (usually FW_WORKER_START); the code names it for callers of
 * the supervisor that meet it anyway.
 */
export class LaunchFailed extends FwError {
  override readonly code = 'FW_LAUNCH_FAILED';
  constructor(readonly generation: number, override readonly cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause));
  }
}

/** A rollout that was asked for (or under way) while the master stops: it never starts or finishes. */
export class RolloutAborted extends FwError {
  override readonly code = 'FW_ROLLOUT_ABORTED';
  constructor() {
    super('the master is stopping');
  }
}
