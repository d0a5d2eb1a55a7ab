import http from 'node:http';
import { BindError } from '@fwjs/core';
import type { MasterStatus } from './control-protocol.js';

/**
 * The master's state in Prometheus' text format. Served on its own address (`--metrics`), never
 * on the app's sockets: the master accepts no app connection.
 */
export function renderMetrics(status: MasterStatus): string {
  const lines: string[] = [];
  const metric = (name: string, type: 'gauge' | 'counter', help: string, samples: [labels: Record<string, string | number>, value: number][]) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) {
      const rendered = Object.entries(labels).map(([key, label]) => `${key}="${String(label).replace(/["\\\n]/g, '\\$&')}"`).join(',');
      lines.push(`${name}${rendered ? `{${rendered}}` : ''} ${value}`);
    }
  };
  const states = ['starting', 'ready', 'draining'] as const;
  metric('fw_workers', 'gauge', 'Worker processes by state.', states.map((state) => [{ state }, status.workers.filter((worker) => worker.state === state).length]));
  metric('fw_worker_restarts_total', 'counter', 'Workers replaced, by cause.', Object.entries(status.counters.restarts).map(([cause, count]) => [{ cause }, count]));
  metric('fw_reloads_total', 'counter', 'Rollouts, by outcome.', Object.entries(status.counters.reloads).map(([outcome, count]) => [{ outcome }, count]));
  metric('fw_generation', 'gauge', 'The generation that serves.', [[{}, status.generation ?? 0]]);
  metric('fw_requests_total', 'counter', 'Requests answered by the workers alive now.', [[{}, status.workers.reduce((sum, worker) => sum + (worker.stats?.served ?? 0), 0)]]);
  metric('fw_worker_requests_in_flight', 'gauge', 'Requests in flight per worker.', status.workers.map((worker) => [{ pid: worker.pid ?? 0, generation: worker.generation }, worker.stats?.inFlight ?? 0]));
  metric('fw_worker_long_lived_connections', 'gauge', 'Open WebSockets (upgraded) and event streams per worker.', status.workers.flatMap((worker) => [
    [{ pid: worker.pid ?? 0, generation: worker.generation, kind: 'upgraded' }, worker.stats?.upgraded ?? 0],
    [{ pid: worker.pid ?? 0, generation: worker.generation, kind: 'event-stream' }, worker.stats?.eventStreams ?? 0],
  ]));
  metric('fw_worker_resident_memory_bytes', 'gauge', 'Resident memory per worker.', status.workers.map((worker) => [{ pid: worker.pid ?? 0, generation: worker.generation }, worker.stats?.rss ?? 0]));
  metric('fw_master_resident_memory_bytes', 'gauge', "The master's resident memory.", [[{}, status.rss]]);
  metric('fw_master_start_time_seconds', 'gauge', 'When the master started (Unix time).', [[{}, Math.round(status.startedAt / 1000)]]);
  return `${lines.join('\n')}\n`;
}

export async function serveMetrics(host: string, port: number, status: () => MasterStatus): Promise<{ address: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || (req.url !== '/metrics' && req.url !== '/')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('fw metrics are at /metrics\n');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(renderMetrics(status()));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => reject(metricsBindError(host, port, error)));
    server.listen(port, host, () => resolve());
  });
  const bound = server.address();
  const shown = typeof bound === 'object' && bound ? `http://${host}:${bound.port}/metrics` : `${host}:${port}`;
  return { address: shown, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** One line that names --metrics, the address and the fix. */
function metricsBindError(host: string, port: number, error: NodeJS.ErrnoException): BindError {
  const where = `--metrics ${host.includes(':') ? `[${host}]` : host}:${port}`;
  switch (error.code) {
    case 'EADDRINUSE':
      return new BindError(`cannot serve ${where}: the port is already in use; stop what listens there, or pick another port for --metrics`);
    case 'EACCES':
      return new BindError(`cannot serve ${where}: no permission to bind it; use a port of 1024 or above for --metrics`);
    case 'EADDRNOTAVAIL':
      return new BindError(`cannot serve ${where}: the address is not on this machine; use 127.0.0.1 or an address of this machine for --metrics`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new BindError(`cannot serve ${where}: cannot resolve host "${host}"; use an IP address such as 127.0.0.1 for --metrics`);
    default:
      return new BindError(`cannot serve ${where}: ${error.code ?? error.message}`);
  }
}
