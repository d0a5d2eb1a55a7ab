import { defineCommand } from 'citty';
import { runMaster } from '@fwjs/runtime';
import { hasBuild, parseAddress, parseBind } from '@fwjs/core';
import { appSettings } from '../app-context.js';
import { dirArg, rejectUnknownFlags, repeatedFlag } from '../args.js';
import { UsageError } from '../errors.js';

function checkHealthPath(value: string): string {
  if (!/^\/[\w\-./]*$/.test(value)) throw new UsageError(`invalid --health-path "${value}": expected a path such as /healthz`);
  return value;
}

export function checkInstance(name: string): string {
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(name)) throw new UsageError(`invalid --instance "${name}": use letters, digits, - and _ (at most 32)`);
  return name;
}

function badBind(spec: string): never {
  throw new UsageError(`invalid --bind "${spec}": expected unix:/path/to.sock, HOST:PORT or PORT`);
}

/** `--metrics HOST:PORT` or `PORT` (on 127.0.0.1): where fw serves its metrics over TCP. */
function parseHostPort(flag: string, value: string): { host: string; port: number } {
  const address = parseAddress(value, { portZero: true });
  if (address?.kind !== 'tcp') throw new UsageError(`invalid ${flag} "${value}": expected HOST:PORT or PORT, e.g. 127.0.0.1:9100`);
  return { host: address.host, port: address.port };
}

const args = {
  ...dirArg,
  port: { type: 'string', description: 'TCP port (default 3000, or PORT)' },
  host: { type: 'string', description: 'Address to listen on (default 127.0.0.1, or HOST)' },
  workers: { type: 'string', description: 'Worker processes (default: CPU count, or WEB_CONCURRENCY)' },
  'graceful-timeout': { type: 'string', description: 'Seconds a draining worker may take (default 30)' },
  'bake-time': { type: 'string', description: 'Seconds a reloaded generation is on probation: a crash in them rolls back to the previous build (default 5, 0 for none)' },
  'long-lived-timeout': { type: 'string', description: 'Seconds a draining worker leaves WebSockets and event streams to the app before closing them (default 5)' },
  'boot-timeout': { type: 'string', description: 'Seconds a new worker may take to become ready (default 30)' },
  entry: { type: 'string', description: 'The app entry, used when there is no build yet (found as fw build finds it)' },
  timeout: { type: 'string', description: 'Seconds a worker may go without a heartbeat before it is replaced (default 30)' },
  'max-requests': { type: 'string', description: 'Recycle a worker after this many requests (default 0: never)' },
  'max-requests-jitter': { type: 'string', description: 'Up to this many more requests per worker, so they do not recycle together' },
  'max-memory': { type: 'string', description: 'Recycle a worker over this many MB of resident memory (default 0: never)' },
  metrics: { type: 'string', description: 'Serve Prometheus metrics on HOST:PORT' },
  watch: { type: 'boolean', description: 'Reload whenever fw build publishes a new build' },
  'log-format': { type: 'string', description: "The master's log lines: text (default) or json" },
  'log-file': { type: 'string', description: "Write the master's log lines to this file (SIGUSR1 reopens it)" },
  bind: { type: 'string', description: 'Listen on unix:PATH or HOST:PORT instead of --host/--port; repeat for several' },
  'socket-mode': { type: 'string', description: 'File mode of unix sockets (default 660)' },
  instance: { type: 'string', description: 'Run a named instance beside others of the same app (blue/green)' },
  'health-path': { type: 'string', description: 'Answer readiness here (200 while serving, 503 while draining), before the app' },
} as const;

export default defineCommand({
  meta: {
    name: 'start',
    description: 'Run the app: a master that owns the socket and N workers. HUP reloads, TERM stops.',
  },
  args,
  async run({ args: parsed, rawArgs }) {
    rejectUnknownFlags('start', rawArgs, args);
    const settings = await appSettings(parsed.dir, {
      port: parsed.port,
      host: parsed.host,
      workers: parsed.workers,
      gracefulTimeout: parsed['graceful-timeout'],
      longLivedTimeout: parsed['long-lived-timeout'],
      bakeTime: parsed['bake-time'],
      bootTimeout: parsed['boot-timeout'],
      entry: parsed.entry,
      timeout: parsed.timeout,
      maxRequests: parsed['max-requests'],
      maxRequestsJitter: parsed['max-requests-jitter'],
      maxMemory: parsed['max-memory'],
      bind: repeatedFlag(rawArgs, 'bind'),
      socketMode: parsed['socket-mode'],
    });
    const binds = settings.bind.length
      ? settings.bind.map((spec) => parseBind(spec, settings.socketMode) ?? badBind(spec))
      : [{ kind: 'tcp' as const, host: settings.host, port: settings.port }];
    const metrics = parsed.metrics === undefined ? undefined : parseHostPort('--metrics', parsed.metrics);
    const logFormat = parsed['log-format'] ?? 'text';
    if (logFormat !== 'text' && logFormat !== 'json') {
      throw new UsageError(`invalid --log-format "${logFormat}": expected text or json`);
    }
    let built = false;
    if (!(await hasBuild(settings.appDir))) {
      const { publishRelease } = await import('@fwjs/build');
      const result = await publishRelease(settings.appDir, settings.entry);
      process.stdout.write(`[fw] no build yet: built ${settings.entry} (build ${result.build.id}) in ${result.ms} ms\n`);
      built = true;
    }
    // Reading fw.config.ts or building started esbuild's service process; the master needs
    // neither for the rest of its life (a process and several MB less). With neither, esbuild was
    // never loaded: importing it only to stop it would load it on every start.
    if (settings.configFile !== null || built) (await import('esbuild')).stop();
    process.exitCode = await runMaster({
      appDir: settings.appDir,
      binds,
      // Under systemd socket activation only the inherited sockets serve, plus explicit --bind flags.
      extraBinds: repeatedFlag(rawArgs, 'bind').map((spec) => parseBind(spec, settings.socketMode) ?? badBind(spec)),
      workers: settings.workers,
      gracefulTimeoutMs: settings.gracefulTimeoutMs,
      longLivedTimeoutMs: settings.longLivedTimeoutMs,
      bakeTimeMs: settings.bakeTimeMs,
      bootTimeoutMs: settings.bootTimeoutMs,
      timeoutMs: settings.timeoutMs,
      maxRequests: settings.maxRequests,
      maxRequestsJitter: settings.maxRequestsJitter,
      maxMemoryMb: settings.maxMemoryMb,
      ...(metrics ? { metrics } : {}),
      watch: parsed.watch === true,
      logFormat,
      trustProxy: settings.trustProxy,
      ...(settings.entryKind ? { env: { FW_ENTRY_KIND: settings.entryKind } } : {}),
      ...(parsed['health-path'] ? { healthPath: checkHealthPath(parsed['health-path']) } : {}),
      ...(parsed.instance ? { instance: checkInstance(parsed.instance) } : {}),
      ...(parsed['log-file'] ? { logFile: parsed['log-file'] } : {}),
    });
  },
});
