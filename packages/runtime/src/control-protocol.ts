import type { RolloutOutcome, SerializedError, SupervisorStatus } from '@fw/core';

/** One JSON line each way over `<app>/.fw/control.sock`. */
export type ControlRequest =
  | { command: 'reload' }
  | { command: 'stop'; force?: boolean; closeIdle?: boolean }
  | { command: 'status' }
  | { command: 'upgrade' };

export type ControlResponse =
  | { ok: true; command: 'reload'; outcome: RolloutOutcome }
  | { ok: false; command: 'reload'; outcome: RolloutOutcome }
  | { ok: true; command: 'stop' }
  | { ok: true; command: 'status'; status: MasterStatus }
  | { ok: boolean; command: 'upgrade'; pid?: number; error?: SerializedError }
  | { ok: false; command: 'error'; error: SerializedError };

export interface MasterStatus extends SupervisorStatus {
  pid: number;
  startedAt: number;
  /** The master's resident memory, bytes. */
  rss: number;
  binds: string[];
}

export function isControlRequest(value: unknown): value is ControlRequest {
  if (typeof value !== 'object' || value === null) return false;
  const command = (value as { command?: unknown }).command;
  return command === 'reload' || command === 'stop' || command === 'status' || command === 'upgrade';
}
