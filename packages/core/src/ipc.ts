/**
 * The messages a master and its workers exchange over the IPC channel.
 *
 * A worker's life, as messages:
 *   master → worker  `socket` (one per listening handle, the handle rides along)
 *   master → worker  `load`     (a warm spare only) the build to boot
 *   worker → master  `booted`   the app is loaded and its own start-up finished
 *   master → worker  `serve`    the whole generation booted: start accepting
 *   worker → master  `ready`    listening on every handed socket
 *   master → worker  `drain`    stop accepting, finish in-flight requests, exit
 *   master → worker  `shed`     (while serving) let N kept-alive connections go, see connection-balance.ts
 * A worker that cannot boot sends `boot-error` and exits with EXIT_BOOT_ERROR.
 */

import { FwError } from './errors.js';

export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  /** An FwError's stable code (docs/errors.md): what JSON logs and `fw status --json` carry for machines. */
  code?: string;
}

/** How a worker should listen on one handed socket: the handle comes with the message. */
export interface SocketMessage {
  type: 'socket';
  index: number;
  count: number;
  /** Printable address, e.g. `http://127.0.0.1:3000` or `unix:/run/app.sock`. */
  address: string;
}

/** Hands a warm spare its build (fw dev): the spare then boots like any worker. */
export interface LoadMessage {
  type: 'load';
  workerId: number;
  generation: number;
  build: { id: string; entry: string; source?: string };
  /** Set in the worker's environment before the app loads (`.env` in development). */
  env: Record<string, string>;
}

export type MasterMessage =
  | SocketMessage
  | LoadMessage
  | { type: 'serve' }
  /** `othersServe`: other workers go on serving the same sockets (a reload, a recycle; not a stop). */
  | { type: 'drain'; othersServe: boolean; closeIdle?: boolean }
  /** Close this many connections after their next response (`Connection: close`). */
  | { type: 'shed'; count: number };

export type WorkerMessage =
  | { type: 'booted'; bootMs: number; importMs: number }
  | { type: 'ready' }
  | { type: 'boot-error'; error: SerializedError }
  /** The drain is over: how long it took, and the long-lived connections it had to wait on. */
  | { type: 'drained'; ms?: number; longLived?: DrainedLongLived }
  /** A draining worker closed its listening sockets: it accepts no new connection. */
  | { type: 'stopped-accepting' }
  /** Sent from the worker's own event loop: a stuck loop stops sending it. */
  | { type: 'heartbeat'; stats: WorkerStats };

export interface DrainedLongLived {
  /** Open when the drain began. */
  upgraded: number;
  eventStreams: number;
  /** What fw ended itself at the long-lived timeout (null: the app had ended them all before). */
  closed: { websockets: number; eventStreams: number; other: number } | null;
  /** The WebSocket close code fw sent: 1012 when other workers go on serving, 1001 on a stop. */
  code: number;
}

export interface WorkerStats {
  /** Resident set size in bytes. */
  rss: number;
  /** Requests answered since the worker started. */
  served: number;
  inFlight: number;
  /** Connections a `Connection: close` could still move: HTTP ones not streaming a response. */
  connections?: number;
  /** Open upgraded connections (WebSockets) and event streams. */
  upgraded?: number;
  eventStreams?: number;
  /** While draining: when fw ends the long-lived connections still open (ms since the epoch). */
  longLivedCloseAt?: number;
}

const workerMessageTypes = new Set<WorkerMessage['type']>(['booted', 'ready', 'boot-error', 'drained', 'heartbeat', 'stopped-accepting']);
const masterMessageTypes = new Set<MasterMessage['type']>(['socket', 'load', 'serve', 'drain', 'shed']);

/** IPC also carries messages that are not ours (an app's own `process.send`): tell them apart. */
export function isWorkerMessage(value: unknown): value is WorkerMessage {
  return hasType(value) && workerMessageTypes.has(value.type as WorkerMessage['type']) && hasFwTag(value);
}

export function isMasterMessage(value: unknown): value is MasterMessage {
  return hasType(value) && masterMessageTypes.has(value.type as MasterMessage['type']) && hasFwTag(value);
}

/** Every fw message carries this tag, so an app's own IPC traffic is never mistaken for ours. */
export const FW_TAG = 'fw:v1';

export function tag<T extends object>(message: T): T & { fw: typeof FW_TAG } {
  return { ...message, fw: FW_TAG };
}

function hasType(value: unknown): value is { type: unknown } {
  return typeof value === 'object' && value !== null && 'type' in value;
}

function hasFwTag(value: object): boolean {
  return (value as { fw?: unknown }).fw === FW_TAG;
}

export function serializeError(error: unknown): SerializedError {
  if (error instanceof Error) {
    return {
      name: error.name,
      message: error.message,
      ...(error.stack ? { stack: error.stack } : {}),
      ...(error instanceof FwError ? { code: error.code } : {}),
    };
  }
  return { name: 'Error', message: String(error) };
}
