import type { RolloutOutcome, SerializedError, SupervisorStatus } from '@fwjs/core';

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

/** A request fw's own commands send, and nothing else: unknown fields, or fields of the wrong type, are refused. */
export function isControlRequest(value: unknown): value is ControlRequest {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const { command, ...rest } = value as Record<string, unknown>;
  const fields = Object.entries(rest);
  switch (command) {
    case 'reload':
    case 'status':
    case 'upgrade':
      return fields.length === 0;
    case 'stop':
      return fields.every(([name, field]) => (name === 'force' || name === 'closeIdle') && typeof field === 'boolean');
    default:
      return false;
  }
}
