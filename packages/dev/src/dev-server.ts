import { stat } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { paint, wantsColour } from './paint.js';
import { listenEnvironment, Supervisor, type BuildRef, type RolloutOutcome } from '@fwjs/core';
import { bindAll, describeEvent } from '@fwjs/core';
import { readEnvFiles } from './env-file.js';
import { writeErrorPage } from './error-page.js';
import { DevReleases, type BuildOutcome } from './dev-releases.js';
import { startTypecheck } from './typecheck.js';
import { WarmSpawner } from './warm-spawner.js';
import { type AppWatcher, type Change, watchApp } from './watcher.js';
import { WorkerLogs } from './worker-logs.js';

export interface DevSettings {
  entry: string;
  /** What the entry exports, when fw.config.ts says (the worker detects it otherwise). */
  entryKind?: string;
  host: string;
  port: number;
}

export interface DevOptions extends DevSettings {
  appDir: string;
  /** Print where the milliseconds of every reload go, and every lifecycle event. */
  debug?: boolean;
  /** Run `tsc --noEmit --watch` beside the server; its errors never block a reload. */
  typecheck?: boolean;
  /** Warm spare workers to keep (default 2; 0 starts every worker cold). */
  spares?: number;
  /** Reads the settings again when fw.config.ts changes. */
  reloadSettings?: () => Promise<DevSettings>;
  /** Where lines go; standard output by default. */
  print?: (text: string) => void;
}

/** A drained old worker may keep an idle kept-alive connection this long in development. */
const DEV_GRACEFUL_TIMEOUT_MS = 5_000;
/** A save should be live at once, for a page's WebSocket too: the old code's ones close after 1 s. */
const DEV_LONG_LIVED_TIMEOUT_MS = 1_000;
const DEFAULT_SPARES = 2;
/** How long a save that left a file empty waits for the editor's write before building anyway. */
const EMPTY_FILE_WAIT_MS = 1_000;

interface Trigger {
  reason: string;
  /** The files whose change asked for it, relative to the app folder. */
  files: string[];
  /** performance.now() of the first change that asked for it. */
  at: number;
  /** Roll out even if the bundle did not change (the environment or dependencies did). */
  force: boolean;
}

/**
 * `fw dev`: every save rebuilds with esbuild's incremental context, and a good build becomes a
 * one-worker rollout through the same supervisor as production: the old worker serves until the
 * new one is ready, and a new one that cannot build or boot is refused. While no version has
 * booted, the port answers 503 with the error. Resolves with the exit code after a stop.
 */
export async function runDevServer(options: DevOptions): Promise<number> {
  const print = options.print ?? ((text: string) => process.stdout.write(text));
  const say = (line: string) => print(`${line}\n`);
  const debug = (line: string) => options.debug && say(paint('dim', line));
  const startedAt = performance.now();
  let settings: DevSettings = { entry: options.entry, host: options.host, port: options.port };

  // The workers' pino lines are shown readable; pino-pretty loads while the first build runs.
  const logs = new WorkerLogs();
  const sockets = await bindAll([{ kind: 'tcp', host: settings.host, port: settings.port }]);
  let dotenv = await readEnvFiles(options.appDir);
  const spawner = new WarmSpawner({
    sockets,
    cwd: options.appDir,
    env: {
      NODE_ENV: process.env.NODE_ENV ?? 'development',
      ...listenEnvironment(sockets),
      FW_GRACEFUL_TIMEOUT_MS: String(DEV_GRACEFUL_TIMEOUT_MS),
      FW_LONG_LIVED_TIMEOUT_MS: String(DEV_LONG_LIVED_TIMEOUT_MS),
      // fw dev trusts no proxy: an FW_TRUST_PROXY inherited from the shell never reaches the app.
      FW_TRUST_PROXY: undefined,
      ...(options.entryKind ? { FW_ENTRY_KIND: options.entryKind } : {}),
      // The workers write into pipes (WorkerLogs), not the terminal: an app that colours its own
      // output at a terminal (chalk, picocolors and the like) still does.
      ...(wantsColour(process.stdout) && process.env.FORCE_COLOR === undefined ? { FORCE_COLOR: '1' } : {}),
    },
    output: logs.attach,
    dotenv: () => dotenv,
    spares: options.spares ?? DEFAULT_SPARES,
  });
  let nextBuild: BuildRef | undefined;
  const supervisor = new Supervisor({
    spawner,
    workers: 1,
    resolveBuild: async () => {
      if (!nextBuild) throw new Error('nothing built yet');
      return nextBuild;
    },
    gracefulTimeoutMs: DEV_GRACEFUL_TIMEOUT_MS,
  });
  supervisor.on((event) => {
    const line = describeEvent(event);
    if (line && event.type !== 'rollout-refused') debug(`  ${line}`);
  });

  let builder = new DevReleases(options.appDir, settings.entry);
  /** What the port serves now: the app (with its bundle's hash), an error page, or nothing yet. */
  let serving: { kind: 'app'; hash: string } | { kind: 'error' } | undefined;
  let lastExternals: string[] = [];
  /** The app's folder and the linked workspace packages the last good build imported. */
  let watchedRoots: string[] = [options.appDir];
  let watcher: AppWatcher | undefined;

  const rollOut = async (build: BuildRef): Promise<RolloutOutcome> => {
    nextBuild = build;
    return supervisor.reload();
  };

  const showError = async (title: string, detail: string) => {
    const outcome = await rollOut(await writeErrorPage(options.appDir, title, detail));
    if (outcome.ok) serving = { kind: 'error' };
    else say(paint('red', `the error page failed to start too: ${outcome.error.message}`));
  };

  /** When each empty saved file (by its stamp) was first seen: it is waited on once, not per cycle. */
  const emptySince = new Map<string, number>();
  /** Saved files seen empty less than EMPTY_FILE_WAIT_MS ago. */
  const freshlyEmpty = (stamps: string[]) => {
    const now = performance.now();
    return stamps.filter((stamp) => {
      if (!isEmptyStamp(stamp)) return false;
      if (!emptySince.has(stamp)) emptySince.set(stamp, now);
      return now - emptySince.get(stamp)! < EMPTY_FILE_WAIT_MS;
    });
  };
  /** A forced reload (.env, dependencies, r) whose cycle failed: the next good build is rolled out even if its bundle is unchanged. */
  let forceOwed = false;

  const cycle = async (trigger: Trigger): Promise<void> => {
    let before = await fileStamps(options.appDir, trigger.files);
    // An empty saved file is most likely an editor that truncated it and has not written it yet
    // (on a busy machine that gap can last hundreds of ms): wait for the write, bounded, rather
    // than build, boot and report a broken half-save. A file left empty on purpose builds once it
    // has been empty for the bound, however many saves of other files come meanwhile.
    while (freshlyEmpty(before).length > 0 && !pending && !closed) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      before = await fileStamps(options.appDir, trigger.files);
    }
    if (pending) return supersede(trigger); // a newer save arrived: one cycle builds both
    if (closed) return;
    const buildStartedAt = performance.now();
    const build: BuildOutcome = await builder.rebuild();
    if (pending) return supersede(trigger); // a newer save arrived while building: only the build after it goes live
    // An editor's save can be seen while the file is still being written (even empty), and the
    // watcher may not report the end of that write. If a saved file changed while esbuild read
    // it, this build is not the one to serve: build again.
    if (!sameStamps(await fileStamps(options.appDir, trigger.files), before)) {
      request({ ...trigger, at: trigger.at });
      return;
    }
    // The environment is read here, after the saved files settled, not when the change was seen:
    // a .env seen mid-write would give the new worker half of it.
    dotenv = await readEnvFiles(options.appDir);
    // A build that fails, or boots badly, may still have read a file mid-write: look once more a
    // moment later, and try again if the saved files changed since.
    const recheckIfFailed = () =>
      setTimeout(async () => {
        if (!pending && !sameStamps(await fileStamps(options.appDir, trigger.files), before)) request({ ...trigger, at: performance.now() });
      }, 100).unref();
    if (!build.ok) {
      forceOwed ||= trigger.force;
      say(`${paint(['red', 'bold'], 'build failed')} ${paint('dim', `(${trigger.reason})`)}\n${build.errors.trimEnd()}`);
      if (serving?.kind === 'app') say(paint('yellow', 'the previous version keeps serving'));
      else await showError('Build failed', build.errors);
      if (trigger.files.length) recheckIfFailed();
      return;
    }
    lastExternals = build.externals;
    watchedRoots = build.roots;
    watcher?.add(build.roots);
    if (!trigger.force && !forceOwed && serving?.kind === 'app' && serving.hash === build.hash) {
      debug(`  ${trigger.reason}: the bundle did not change (build ${build.ms} ms)`);
      return;
    }
    const outcome = await rollOut(build.build);
    if (closed) return; // stopping: the rollout was refused for that, not for the app
    const total = Math.round(performance.now() - trigger.at);
    if (outcome.ok) {
      forceOwed = false;
      builder.serving(build.build);
      const first = serving?.kind !== 'app';
      serving = { kind: 'app', hash: build.hash };
      if (trigger.reason !== 'start') {
        say(`${paint('green', first ? 'serving' : 'reloaded')} in ${total} ms ${paint('dim', `(${trigger.reason})`)}`);
      }
      const boot = supervisor.status().workers.find((worker) => worker.generation === outcome.generation)?.bootTimings;
      const phases = boot ? ` = import ${boot.importMs} ms + app start ${boot.bootMs - boot.importMs} ms + handover` : '';
      debug(`  wait ${Math.round(buildStartedAt - trigger.at)} ms, build ${build.ms} ms, start worker ${outcome.ms} ms (${spawner.lastStart}${phases}), total ${total} ms`);
    } else {
      forceOwed ||= trigger.force;
      const detail = outcome.error.stack ?? outcome.error.message;
      say(`${paint(['red', 'bold'], 'the app failed to start')} ${paint('dim', `(${trigger.reason})`)}\n${detail}`);
      if (serving?.kind === 'app') say(paint('yellow', 'the previous version keeps serving'));
      else await showError('The app failed to start', detail);
      if (trigger.files.length) recheckIfFailed();
    }
    spawner.replenish(lastExternals);
  };

  // One cycle at a time; saves during a cycle make exactly one more, built after the last of them.
  let pending: Trigger | undefined;
  /** Set when fw dev stops: no new cycle starts, a running one stops before its next step. */
  let closed = false;
  let running: Promise<void> | undefined;
  const request = (trigger: Trigger) => {
    if (closed) return;
    pending = pending ? merge(pending, trigger) : trigger;
    running ??= (async () => {
      while (pending) {
        const next = pending;
        pending = undefined;
        await cycle(next).catch((error: unknown) => say(paint('red', `fw dev: ${String(error)}`)));
      }
      running = undefined;
    })();
  };

  /** Folds a cycle given up for a newer save into that save's cycle, so no file or force is lost. */
  const supersede = (trigger: Trigger) => {
    if (pending) pending = merge(trigger, pending);
  };

  const onChanges = async (changes: Change[]) => {
    const at = changes[0]?.at ?? performance.now();
    const reason = describeChanges(changes);
    const kinds = new Set(changes.map((change) => change.kind));
    if (kinds.has('dependencies')) {
      debug('  dependencies changed: retiring the warm spares');
      spawner.retireSpare();
    }
    if (kinds.has('config') && options.reloadSettings) {
      try {
        const next = await options.reloadSettings();
        if (next.port !== settings.port || next.host !== settings.host) {
          say(paint('yellow', 'fw.config.ts changed the port or host: restart fw dev to apply it'));
        }
        if (next.entry !== settings.entry) {
          await builder.dispose();
          builder = new DevReleases(options.appDir, next.entry);
        }
        settings = next;
      } catch (error) {
        say(paint('red', (error as Error).message));
        return;
      }
    }
    const force = kinds.has('env') || kinds.has('dependencies') || kinds.has('config');
    request({ reason, files: changes.map((change) => change.file), at, force });
  };

  // First version: build and start it, then warm a spare for the first save.
  request({ reason: 'start', files: [], at: startedAt, force: true });
  await running;
  watcher = watchApp(options.appDir, (changes) => void onChanges(changes));
  watcher.add(watchedRoots);
  await watcher.ready;
  const address = sockets[0]!.address;
  say(`\n  ${paint('bold', 'fw dev')}  ${paint('cyan', address)}  ${paint('dim', `ready in ${Math.round(performance.now() - startedAt)} ms`)}`);
  const keys = process.stdin.isTTY ? createInterface({ input: process.stdin }) : undefined;
  say(paint('dim', `  running ${settings.entry}, watching ${options.appDir}${keys ? '; r + enter reloads, q + enter quits' : ''}\n`));
  const typecheck = options.typecheck ? startTypecheck(options.appDir, print) : undefined;

  return await new Promise<number>((resolve) => {
    let stopping: Promise<void> | undefined;
    const stop = (force: boolean) => {
      if (stopping && !force) return;
      stopping = (async () => {
        await watcher?.close();
        keys?.close();
        typecheck?.stop();
        closed = true;
        pending = undefined;
        spawner.close();
        await supervisor.stop({ force });
        // A cycle under way ends once its rollout is refused; the builder must outlive it.
        await running;
        await builder.dispose();
        for (const socket of sockets) socket.close();
        logs.close();
        for (const [signal, handler] of Object.entries(signals)) process.off(signal, handler);
        resolve(0);
      })();
    };
    let interrupts = 0;
    const signals: Partial<Record<NodeJS.Signals, () => void>> = {
      SIGINT: () => stop(++interrupts > 1),
      SIGTERM: () => stop(false),
      SIGHUP: () => request({ reason: 'SIGHUP', files: [], at: performance.now(), force: true }),
    };
    for (const [signal, handler] of Object.entries(signals)) process.on(signal, handler);
    keys?.on('line', (line) => {
      const key = line.trim().toLowerCase();
      if (key === 'r') request({ reason: 'r pressed', files: [], at: performance.now(), force: true });
      else if (key === 'q') stop(false);
    });
  });
}

/** Size and modification time of each file, one `file:size:mtime` stamp each (missing files count too). */
async function fileStamps(appDir: string, files: readonly string[]): Promise<string[]> {
  const stamps = await Promise.all(
    files.map((file) =>
      stat(path.join(appDir, file)).then(
        (info) => `${file}:${info.size}:${info.mtimeMs}`,
        () => `${file}:missing`,
      ),
    ),
  );
  return stamps;
}

function sameStamps(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((stamp, index) => stamp === b[index]);
}

/** One trigger for two: every file, the earlier start, forced if either was. */
function merge(first: Trigger, second: Trigger): Trigger {
  return {
    reason: first.reason,
    files: [...new Set([...first.files, ...second.files])],
    at: Math.min(first.at, second.at),
    force: first.force || second.force,
  };
}

function isEmptyStamp(stamp: string): boolean {
  return /:0:[\d.]+$/.test(stamp);
}

function describeChanges(changes: Change[]): string {
  const [first] = changes;
  if (!first) return 'change';
  return changes.length === 1 ? first.file : `${first.file} and ${changes.length - 1} more`;
}
