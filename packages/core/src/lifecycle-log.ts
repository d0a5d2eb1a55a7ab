import { describeExit } from './exit-codes.js';
import type { DrainedLongLived } from './ipc.js';
import type { SupervisorEvent } from './supervisor.js';
import type { WorkerInfo } from './worker-handle.js';

/** One line per lifecycle event, for people reading the master's output or journal. */
export function describeEvent(event: SupervisorEvent): string | null {
  switch (event.type) {
    case 'worker-started':
      return null;
    case 'worker-ready':
      return `${worker(event.worker)} up`;
    case 'rollout-started':
      return `generation ${event.generation}: starting ${event.workers} worker${event.workers === 1 ? '' : 's'} on build ${event.build.id}`;
    case 'generation-ready':
      return `generation ${event.generation} ready in ${event.ms} ms (build ${event.build.id}, pids ${event.pids.join(', ')})`;
    case 'rollout-refused': {
      const which = event.generation === null ? 'rollout' : `generation ${event.generation}`;
      return `${which} refused: ${event.error.message}${event.error.stack ? `\n${indent(event.error.stack)}` : ''}`;
    }
    case 'worker-draining':
      return `${worker(event.worker)} draining (${event.reason})`;
    case 'rollback-started':
      return `${event.why}: rolling back to build ${event.build.id}`;
    case 'rolled-back':
      return `rolled back: generation ${event.to} serves build ${event.build.id} again (generation ${event.generation} is stopped)`;
    case 'rollback-failed':
      return `the rollback after generation ${event.generation} failed, so generation ${event.generation} goes on: ${event.error.message}${event.error.stack ? `\n${indent(event.error.stack)}` : ''}`;
    case 'worker-drained':
      return event.longLived && event.longLived.upgraded + event.longLived.eventStreams > 0
        ? `${worker(event.worker)} drained in ${(event.ms / 1000).toFixed(1)} s; ${describeLongLived(event.longLived)}`
        : null;
    case 'worker-exited':
      return `${worker(event.worker)} exited (${describeExit(event.exit.code, event.exit.signal)})`;
    case 'worker-killed':
      return `${worker(event.worker)} killed: ${event.reason.replace('-', ' ')}`;
    case 'worker-recycling':
      return event.cause === 'unresponsive'
        ? `${worker(event.worker)} is unresponsive: ${event.detail}; killing it and starting a replacement${event.restartInMs ? ` in ${event.restartInMs} ms` : ''}`
        : `${worker(event.worker)} is recycled: ${event.detail}; starting its replacement first`;
    case 'worker-crashed':
      return `${worker(event.worker)} crashed (${describeExit(event.exit.code, event.exit.signal)}); replacing it${event.restartInMs ? ` in ${event.restartInMs} ms` : ''}`;
    case 'replacement-failed':
      return `replacement worker for generation ${event.generation} failed: ${event.error.message}; retrying in ${event.retryInMs} ms${event.error.stack ? `\n${indent(event.error.stack)}` : ''}`;
    case 'scaled':
      return `now ${event.workers} worker${event.workers === 1 ? '' : 's'}`;
    case 'connections-shed':
      return `${worker(event.worker)} holds ${event.connections} of ${event.total} kept-alive connections over ${event.workers} workers: closing ${event.count} after their next response, to spread them`;
    case 'stopped':
      return 'all workers stopped';
  }
}

/** What a drain waited on, and who ended it: the app's close path, or fw at the long-lived timeout. */
function describeLongLived(longLived: DrainedLongLived): string {
  const waited = `waited on ${listOf([[longLived.upgraded, 'WebSocket'], [longLived.eventStreams, 'event stream']])}`;
  const closed = longLived.closed;
  if (!closed || closed.websockets + closed.eventStreams + closed.other === 0) return `${waited}: the app closed them`;
  const byFw = listOf([[closed.websockets, `WebSocket`], [closed.eventStreams, 'event stream'], [closed.other, 'other upgraded connection']]);
  return `${waited}: fw closed ${byFw} at the long-lived timeout${closed.websockets > 0 ? ` (close code ${longLived.code})` : ''}`;
}

function listOf(counts: [number, string][]): string {
  const parts = counts.filter(([count]) => count > 0).map(([count, noun]) => `${count} ${noun}${count === 1 ? '' : 's'}`);
  return parts.length > 1 ? `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)}` : (parts[0] ?? 'nothing');
}

function worker(info: WorkerInfo): string {
  return `worker ${info.id} (pid ${info.pid ?? '?'}, generation ${info.generation})`;
}

function indent(text: string): string {
  return text.split('\n').map((line) => `    ${line}`).join('\n');
}

/** The machine-readable side of an event, for JSON logs: its type and the worker's identity. */
export function eventFields(event: SupervisorEvent): Record<string, unknown> {
  const { type, ...rest } = event;
  const fields: Record<string, unknown> = { event: type };
  for (const [key, value] of Object.entries(rest)) {
    if (key === 'worker' && value) {
      const info = value as WorkerInfo;
      Object.assign(fields, { worker: info.id, workerPid: info.pid, generation: info.generation });
    } else if (key === 'build' && value) {
      fields.build = (value as { id: string }).id;
    } else {
      fields[key] = value;
    }
  }
  return fields;
}
