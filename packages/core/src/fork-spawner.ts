import { fork, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { isWorkerMessage, tag, type MasterMessage, type WorkerMessage } from './ipc.js';
import type { Spawner, SpawnRequest, WorkerProcess } from './spawner.js';

/** A listening socket the master owns: the native handle every worker listens on, and its address. */
export interface ListeningSocket {
  /** A bound server handle (TCP or pipe) the master itself never accepts on. */
  handle: unknown;
  /** Printable, e.g. `http://127.0.0.1:3000` or `unix:/run/app.sock`. */
  address: string;
}

export interface ForkSpawnerOptions {
  sockets: readonly ListeningSocket[];
  /** Working directory of the workers: the app's folder. */
  cwd: string;
  /** Extra environment for the workers (the master's own environment is inherited). */
  env?: NodeJS.ProcessEnv;
  execArgv?: string[];
  /** The worker bootstrap; defaults to this package's `worker/main.js`. */
  workerScript?: string;
  /**
   * Where a worker's standard output and error go. Unset, the worker writes to the master's own
   * (`fw start`: the app's JSON log lines reach the log as they are). Set, both are pipes handed
   * to this function once per worker, which must read them to their end (`fw dev` shows the app's
   * logs readable).
   */
  output?: WorkerOutput;
}

/** Receives a worker's piped standard output and error; see `ForkSpawnerOptions.output`. */
export type WorkerOutput = (stdout: Readable, stderr: Readable) => void;

/**
 * A worker whose output is piped is reported exited once its pipes have closed too, so the last
 * lines it printed come before what the master says about its exit; but no later than this after
 * the exit, as a process the worker started may hold its pipes open.
 */
const OUTPUT_AFTER_EXIT_MS = 500;

export const defaultWorkerScript = fileURLToPath(new URL('./worker/main.js', import.meta.url));

/** Production's spawner: forks the worker bootstrap on a build and hands it the listening sockets. */
export class ForkSpawner implements Spawner {
  constructor(private readonly options: ForkSpawnerOptions) {}

  spawn(request: SpawnRequest): WorkerProcess {
    return forkWorker(this.options, {
      FW_WORKER_ID: String(request.workerId),
      FW_GENERATION: String(request.generation),
      FW_BUILD_ID: request.build.id,
      FW_BUILD_ENTRY: request.build.entry,
      ...(request.build.source ? { FW_ENTRY_SOURCE: request.build.source } : {}),
    });
  }
}

/** Forks one worker bootstrap with the sockets handed over; `env` says what it is to run. */
export function forkWorker(options: ForkSpawnerOptions, env: NodeJS.ProcessEnv): ForkedWorker {
  const child = fork(options.workerScript ?? defaultWorkerScript, [], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env, ...env },
    execArgv: options.execArgv ?? [],
    stdio: ['ignore', options.output ? 'pipe' : 'inherit', options.output ? 'pipe' : 'inherit', 'ipc'],
    serialization: 'json',
  });
  if (options.output && child.stdout && child.stderr) options.output(child.stdout, child.stderr);
  const worker = new ForkedWorker(child);
  const count = options.sockets.length;
  options.sockets.forEach((socket, index) => {
    worker.sendWithHandle({ type: 'socket', index, count, address: socket.address }, socket.handle);
  });
  return worker;
}

export class ForkedWorker implements WorkerProcess {
  constructor(private readonly child: ChildProcess) {
    // A failed send (the worker died meanwhile) surfaces as its exit; an unhandled 'error' would
    // take the master down instead.
    child.on('error', () => undefined);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  send(message: MasterMessage): void {
    if (this.child.connected) this.child.send(tag(message), () => undefined);
  }

  sendWithHandle(message: MasterMessage, handle: unknown): void {
    if (!this.child.connected) return;
    this.child.send(tag(message), handle as Parameters<ChildProcess['send']>[1], () => undefined);
  }

  kill(signal: NodeJS.Signals): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
  }

  onMessage(listener: (message: WorkerMessage) => void): void {
    this.child.on('message', (message) => {
      if (isWorkerMessage(message)) listener(message);
    });
  }

  onExit(listener: (code: number | null, signal: NodeJS.Signals | null) => void): void {
    if (!this.child.stdout && !this.child.stderr) {
      this.child.once('exit', listener);
      return;
    }
    this.child.once('exit', (code, signal) => {
      let reported = false;
      const report = () => {
        if (reported) return;
        reported = true;
        clearTimeout(bound);
        listener(code, signal);
      };
      // 'close': the process has exited and its pipes are read to their end.
      const bound = setTimeout(report, OUTPUT_AFTER_EXIT_MS);
      this.child.once('close', report);
    });
  }
}
