import { defineCommand } from 'citty';
import type { MasterStatus } from '@fwjs/runtime';
import { rejectUnknownFlags } from '../args.js';
import { askMaster, masterArgs } from '../master-request.js';

const args = {
  ...masterArgs,
  json: { type: 'boolean', description: 'Print the status as JSON (with a workers array)' },
} as const;

export default defineCommand({
  meta: { name: 'status', description: "Show the master, its workers and the last reload" },
  args,
  async run({ args: parsed, rawArgs }) {
    rejectUnknownFlags('status', rawArgs, args);
    const { status } = await askMaster(parsed, { command: 'status' }, 10_000);
    process.stdout.write(parsed.json ? `${JSON.stringify(status, null, 2)}\n` : formatStatus(status));
  },
});

function formatStatus(status: MasterStatus): string {
  const now = Date.now();
  const lines = [
    `master   pid ${status.pid}, up ${duration(now - status.startedAt)}, ${megabytes(status.rss)}`,
    `serving  ${status.binds.join(', ')}`,
    `build    ${status.build ?? '(none)'}, generation ${status.generation ?? '-'}, ${status.desiredWorkers} worker${status.desiredWorkers === 1 ? '' : 's'} wanted${status.stopping ? ', stopping' : ''}`,
  ];
  const last = status.lastRollout;
  if (last) {
    const failed = !last.ok && last.rolledBack !== undefined ? `rolled back after ${last.ms} ms: ${last.error.message}` : `refused after ${last.ms} ms: ${!last.ok && last.error.message}`;
    lines.push(`reload   last ${last.ok ? `ok: generation ${last.generation} ready in ${last.ms} ms` : failed}`);
  }
  if (status.baking) lines.push(`baking   generation ${status.baking.generation} until ${duration(status.baking.until - now)} from now: a crash before then rolls back`);
  const { restarts, reloads } = status.counters;
  lines.push(`counts   reloads ${reloads.ok} ok, ${reloads.refused} refused, ${reloads.rolledBack} rolled back; restarts ${Object.entries(restarts).map(([cause, n]) => `${cause} ${n}`).join(', ')}`, '');
  const header = ['pid', 'gen', 'state', 'uptime', 'rss', 'served', 'in flight', 'long-lived'];
  const rows = status.workers.map((worker) => [
    String(worker.pid ?? '?'),
    String(worker.generation),
    worker.state,
    duration(now - worker.startedAt),
    worker.stats ? megabytes(worker.stats.rss) : '-',
    String(worker.stats?.served ?? '-'),
    String(worker.stats?.inFlight ?? '-'),
    longLived(worker.stats) || '-',
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const render = (cells: string[]) => cells.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd();
  lines.push(render(header), ...rows.map(render));
  const draining = status.workers.filter((worker) => worker.state === 'draining');
  if (draining.length > 0) lines.push('', ...draining.map((worker) => describeDrain(worker, now)));
  return `${lines.join('\n')}\n`;
}

type Worker = MasterStatus['workers'][number];

/** `2 upgraded, 1 event stream`: the connections a drain cannot end with `Connection: close`. */
function longLived(stats: Worker['stats']): string {
  const parts: string[] = [];
  if (stats?.upgraded) parts.push(`${stats.upgraded} upgraded`);
  if (stats?.eventStreams) parts.push(`${stats.eventStreams} event stream${stats.eventStreams === 1 ? '' : 's'}`);
  return parts.join(', ');
}

/** What a draining worker still holds, and what happens to it when. */
function describeDrain(worker: Worker, now: number): string {
  const since = worker.drainingSince === null ? '' : ` for ${duration(now - worker.drainingSince)}`;
  const open = longLived(worker.stats);
  const inFlight = worker.stats?.inFlight ? `${worker.stats.inFlight} request${worker.stats.inFlight === 1 ? '' : 's'} in flight` : '';
  const holding = [inFlight, open && `${open} open`].filter(Boolean).join(', ') || 'idle connections only';
  const closeAt = worker.stats?.longLivedCloseAt;
  const closing = open && closeAt !== undefined ? (closeAt > now ? `; fw closes them in ${duration(closeAt - now)}` : '; fw has closed them') : '';
  const kill = worker.deadline ? `; killed in ${duration(worker.deadline.at - now)} if still running` : '';
  return `worker ${worker.id} (pid ${worker.pid ?? '?'}) draining${since}: ${holding}${closing}${kill}`;
}

function duration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`;
}

function megabytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
