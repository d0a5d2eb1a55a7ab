import type { MasterMessage, WorkerMessage } from './ipc.js';

/** A complete build a generation runs: pinned, so a later build never changes a running generation. */
export interface BuildRef {
  /** Short id for logs, e.g. the build folder's name. */
  id: string;
  /** Absolute path of the module a worker imports. */
  entry: string;
  /** The source file it was built from, relative to the app folder, when known (for logs). */
  source?: string;
}

export interface SpawnRequest {
  workerId: number;
  generation: number;
  build: BuildRef;
}

/** A started worker process, as the master sees it. */
export interface WorkerProcess {
  readonly pid: number | undefined;
  /** Sends a message; a closed channel is not an error (the exit event follows). */
  send(message: MasterMessage): void;
  kill(signal: NodeJS.Signals): void;
  onMessage(listener: (message: WorkerMessage) => void): void;
  onExit(listener: (code: number | null, signal: NodeJS.Signals | null) => void): void;
}

/**
 * The one seam between development and production: what process to start for a worker.
 * `fw start` forks the worker bootstrap on a build and hands it the listening sockets;
 * `fw dev` can hand a build to a warm spare instead. Unit tests use a fake.
 */
export interface Spawner {
  spawn(request: SpawnRequest): WorkerProcess;
}
