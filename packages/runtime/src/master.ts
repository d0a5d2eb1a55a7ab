import { adoptSockets, appPaths, bindAll, describeEvent, eventFields, ForkSpawner, inheritedSockets, latestBuild, listenEnvironment, markServing, Supervisor, serializeError, type Bind, type BuildRef, type RolloutOutcome } from '@fwjs/core';
import type { ControlRequest, ControlResponse, MasterStatus } from './control-protocol.js';
import { listenControlSocket } from './control-server.js';
import { watchBuilds } from './build-watcher.js';
import { createMasterLog, type LogFormat } from './master-log.js';
import { serveMetrics } from './metrics.js';
import { claimPidFile, releasePidFile } from './pid-file.js';
import { readHandover, reportToPredecessor, startSuccessor } from './upgrade.js';
import { notifySystemd } from './systemd.js';

export interface MasterOptions {
  appDir: string;
  binds: Bind[];
  workers: number;
  gracefulTimeoutMs: number;
  /** After a reload, a crash of the new generation within this rolls back to the previous build (0: off). */
  bakeTimeMs?: number;
  /** A draining worker closes the WebSockets and event streams still open after this (default 5 s). */
  longLivedTimeoutMs?: number;
  bootTimeoutMs: number;
  /** A worker whose heartbeat stops for this long is killed and replaced. */
  timeoutMs?: number;
  /** Recycle a worker after this many requests (plus up to `maxRequestsJitter`); 0: never. */
  maxRequests?: number;
  maxRequestsJitter?: number;
  /** Recycle a worker over this many megabytes of resident memory; 0: never. */
  maxMemoryMb?: number;
  /** Serve Prometheus metrics here. */
  metrics?: { host: string; port: number };
  /** Reload whenever `fw build` publishes a new build. */
  watch?: boolean;
  /** Extra environment for the workers. */
  env?: NodeJS.ProcessEnv;
  /**
   * With socket activation (systemd's LISTEN_FDS), `binds` are replaced by the inherited sockets;
   * these are bound in addition (explicit --bind flags).
   */
  extraBinds?: Bind[];
  /** Workers answer this path themselves: 200 while serving, 503 while draining. */
  healthPath?: string;
  /** A named instance (blue/green): its own pid file and control socket. */
  instance?: string;
  /** Fastify's trustProxy for the workers (`proxy.trust` in fw.config.ts). */
  trustProxy?: boolean | number | string | string[];
  /** `text` (default) or `json` lines, to standard output or `logFile`. */
  logFormat?: LogFormat;
  logFile?: string;
}

/**
 * `fw start`'s master: owns the listening sockets, the pid file and the control socket, runs the
 * supervisor, and turns signals and control requests into supervisor commands. Resolves with the
 * process exit code once everything it started has stopped.
 */
export async function runMaster(options: MasterOptions): Promise<number> {
  const log = await createMasterLog({ format: options.logFormat ?? 'text', ...(options.logFile ? { file: options.logFile } : {}) });
  const paths = appPaths(options.appDir, options.instance);
  const startedAt = Date.now();
  // Started by `fw upgrade`: the old master hands over its sockets and its pid file.
  const handover = readHandover();
  // A new master from an upgrade takes the pid file over only once it serves: if it fails, the
  // old master keeps serving under its own pid file.
  if (!handover) await claimPidFile(paths.pidFile);
  const cleanups: (() => Promise<void> | void)[] = [() => releasePidFile(paths.pidFile)];
  const cleanup = async () => {
    for (const step of cleanups.reverse()) await step();
  };

  try {
    // Socket activation: systemd's sockets, plus only what was asked for explicitly.
    const inherited = handover ? adoptSockets(handover.sockets) : inheritedSockets();
    const sockets = handover ? inherited : [...inherited, ...(await bindAll(inherited.length > 0 ? (options.extraBinds ?? []) : options.binds))];
    let socketsOpen = true;
    /** Set once a successor master serves: the sockets are its now, never to be closed here. */
    let handedOver = false;
    // Once no worker accepts, a socket still bound would queue connections nobody answers; closed,
    // it refuses them at once (and a proxy tries its other upstream).
    const closeSockets = () => {
      if (!socketsOpen || handedOver) return;
      socketsOpen = false;
      for (const socket of sockets) socket.close();
    };
    cleanups.push(closeSockets);

    const supervisor = new Supervisor({
      spawner: new ForkSpawner({
        sockets,
        cwd: options.appDir,
        env: {
          NODE_ENV: process.env.NODE_ENV ?? 'production',
          ...listenEnvironment(sockets),
          FW_GRACEFUL_TIMEOUT_MS: String(options.gracefulTimeoutMs),
          ...(options.longLivedTimeoutMs ? { FW_LONG_LIVED_TIMEOUT_MS: String(options.longLivedTimeoutMs) } : {}),
          FW_BOOT_TIMEOUT_MS: String(options.bootTimeoutMs),
          ...(options.healthPath ? { FW_HEALTH_PATH: options.healthPath } : {}),
          // Only the validated setting: one inherited from the master's environment never passes through.
          FW_TRUST_PROXY: options.trustProxy !== undefined && options.trustProxy !== false ? JSON.stringify(options.trustProxy) : undefined,
          ...options.env,
        },
      }),
      resolveBuild: () => latestBuild(options.appDir),
      workers: options.workers,
      bootTimeoutMs: options.bootTimeoutMs,
      gracefulTimeoutMs: options.gracefulTimeoutMs,
      bakeTimeMs: options.bakeTimeMs ?? 0,
      heartbeatTimeoutMs: options.timeoutMs,
      ...(options.maxRequests ? { maxRequests: { limit: options.maxRequests, jitter: options.maxRequestsJitter ?? 0 } } : {}),
      ...(options.maxMemoryMb ? { maxMemoryBytes: options.maxMemoryMb * 1024 * 1024 } : {}),
    });
    supervisor.on((event) => {
      const line = describeEvent(event);
      if (line) log(line, eventFields(event));
    });
    // Whatever fails from here on stops the workers first (a no-op once they have stopped).
    cleanups.push(() => supervisor.stop());

    const addresses = sockets.map((socket) => socket.address);
    const status = (): MasterStatus => ({
      ...supervisor.status(),
      pid: process.pid,
      startedAt,
      rss: process.memoryUsage.rss(),
      binds: addresses,
    });
    let stopping = false;
    const stop = (force: boolean, closeIdle = false) => {
      if (!stopping) log(force ? 'stopping now' : `stopping gracefully (up to ${options.gracefulTimeoutMs / 1000} s)`);
      else if (force) log('stopping now');
      stopping = true;
      const stopped = supervisor.stop({ force, closeIdle, socketsHandedOver: handedOver });
      // Every worker has been told to stop accepting: nothing will accept on the sockets again.
      closeSockets();
      return stopped;
    };
    const reload = async (why: string): Promise<RolloutOutcome> => {
      log(`reload requested (${why})`);
      return supervisor.reload();
    };

    const control = await listenControlSocket(paths.controlSocket, (request) => handleControl(request));
    // After a handover the path belongs to the new master's control socket; closing ours would
    // unlink it (libuv removes the path a pipe server bound). process.exit below skips that.
    cleanups.push(() => (handedOver ? undefined : control.close()));
    async function handleControl(request: ControlRequest): Promise<ControlResponse> {
      switch (request.command) {
        case 'reload': {
          const outcome = await reload('fw reload');
          return outcome.ok ? { ok: true, command: 'reload', outcome } : { ok: false, command: 'reload', outcome };
        }
        case 'stop':
          void stop(request.force ?? false, request.closeIdle ?? false);
          return { ok: true, command: 'stop' };
        case 'status':
          return { ok: true, command: 'status', status: status() };
        case 'upgrade':
          return upgrade();
      }
    }

    let upgrading = false;
    async function upgrade(): Promise<ControlResponse> {
      if (upgrading || stopping) {
        return { ok: false, command: 'upgrade', error: { name: 'Error', message: upgrading ? 'an upgrade is already under way' : 'the master is stopping' } };
      }
      upgrading = true;
      log(`upgrade requested: starting a new master from the binaries on disk (${process.execPath})`);
      try {
        const pid = await startSuccessor(sockets, options.bootTimeoutMs + 30_000);
        log(`new master (pid ${pid}) serves; this one (pid ${process.pid}) drains and exits`);
        handedOver = true;
        void stop(false);
        return { ok: true, command: 'upgrade', pid };
      } catch (error) {
        log(`upgrade refused, this master keeps serving: ${(error as Error).message}`);
        upgrading = false;
        return { ok: false, command: 'upgrade', error: serializeError(error) };
      }
    }

    // Signal handlers only enqueue: each maps to one supervisor command, run through its queue.
    let interrupts = 0;
    const signalCommands: Partial<Record<NodeJS.Signals, () => void>> = {
      SIGHUP: () => void reload('SIGHUP'),
      SIGTERM: () => void stop(false),
      SIGQUIT: () => void stop(false),
      SIGINT: () => void stop(++interrupts > 1),
      SIGTTIN: () => void supervisor.scale(+1),
      SIGTTOU: () => void supervisor.scale(-1),
      SIGUSR2: () => void upgrade(),
      SIGUSR1: () => {
        log.reopen();
        log('log file reopened (SIGUSR1)');
      },
    };
    for (const [signal, command] of Object.entries(signalCommands)) process.on(signal, command);
    cleanups.push(() => {
      for (const [signal, command] of Object.entries(signalCommands)) process.off(signal, command);
    });

    // Everything the master binds or opens is bound or opened before the first worker starts: a
    // failure here leaves nothing running.
    if (options.metrics) {
      const metrics = await serveMetrics(options.metrics.host, options.metrics.port, status);
      cleanups.push(() => metrics.close());
      log(`metrics at ${metrics.address}`);
    }
    if (options.watch) {
      const watcher = watchBuilds(options.appDir, () => supervisor.status().build, (id) => void reload(`new build ${id}`));
      cleanups.push(() => watcher.close());
      log(`watching ${paths.build} for new builds`);
    }

    const stopped = new Promise<void>((resolve) => supervisor.on((event) => event.type === 'stopped' && resolve()));
    const first = await supervisor.start();
    if (handover) {
      if (first.ok) await claimPidFile(paths.pidFile, handover.fromPid);
      reportToPredecessor(first.ok ? { type: 'ready', pid: process.pid } : { type: 'failed', error: first.error });
    }
    if (!first.ok) {
      if (!stopping) log('nothing to serve: the first generation did not start');
      await supervisor.stop();
      await cleanup();
      return stopping ? 0 : 1;
    }
    if (!stopping) {
      const entry = first.build.source;
      log(`serving ${addresses.join(', ')} with ${options.workers} worker${options.workers === 1 ? '' : 's'} (master pid ${process.pid})${entry ? `, running ${entry}` : ''}`);
      notifySystemd({ ready: true, status: `serving generation ${first.generation}` });
    }
    const markLive = (build: BuildRef) => markServing(options.appDir, build, options.instance).catch(() => undefined);
    void markLive(first.build);
    supervisor.on((event) => {
      if (event.type === 'generation-ready') {
        notifySystemd({ status: `serving generation ${event.generation}` });
        void markLive(event.build);
      }
      if (event.type === 'rollout-refused') notifySystemd({ status: `serving; generation ${event.generation ?? '?'} refused: ${event.error.message}` });
    });

    await stopped;
    await cleanup();
    if (handedOver) {
      log(`stopped; the new master serves`);
      // Exit now, without Node's handle cleanup: closing a unix socket handle this process bound
      // would unlink the socket file the new master is serving on.
      process.exit(0);
    }
    log('stopped');
    return 0;
  } catch (error) {
    await cleanup();
    throw error;
  }
}
