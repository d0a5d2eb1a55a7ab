/**
 * The supervisor on a fake spawner and a fake clock: no processes, no real time. Every wait is
 * bounded in fake milliseconds (`within`), and vitest's own test timeout bounds the real time.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { BackoffPolicy } from '../src/backoff.js';
import type { BuildRef } from '../src/spawner.js';
import { Supervisor, type SupervisorEvent, type SupervisorOptions } from '../src/supervisor.js';
import { FakeSpawner, okBehaviour, type FakeBehaviour, type FakeWorker } from './fake-spawner.js';

const BOOT = 5_000;
const GRACE = 2_000;
const TICK = 100;
const BACKOFF: BackoffPolicy = { initialMs: 250, maxMs: 2_000, windowMs: 60_000 };
/** How long an ok fake worker takes from spawn to ready. */
const OK_MS = okBehaviour.bootMs + okBehaviour.readyMs;

/** The fake clock's start: every test begins at the same instant. */
const T0 = Date.UTC(2030, 0, 1);

beforeEach(() => {
  vi.useFakeTimers({ now: T0 });
});

afterEach(() => {
  vi.clearAllTimers();
  vi.useRealTimers();
});

async function advance(ms: number): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms);
}

interface Tracked<T> {
  settled: boolean;
  value: T | undefined;
}

function track<T>(promise: Promise<T>): Tracked<T> {
  const tracked: Tracked<T> = { settled: false, value: undefined };
  promise.then(
    (value) => Object.assign(tracked, { settled: true, value }),
    () => Object.assign(tracked, { settled: true }),
  );
  return tracked;
}

/** Advances the fake clock until the promise settles; fails if it is still pending after `ms`. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  const tracked = track(promise);
  await advance(0);
  for (let waited = 0; !tracked.settled && waited < ms; waited += 10) await advance(10);
  if (!tracked.settled) throw new Error(`still pending after ${ms} ms of fake time`);
  return promise;
}

type EventOf<T extends SupervisorEvent['type']> = Extract<SupervisorEvent, { type: T }>;

function setup(options: Partial<SupervisorOptions> & { spawner?: FakeSpawner } = {}) {
  const spawner = options.spawner ?? new FakeSpawner();
  let builds = 0;
  const resolveBuild = vi.fn(async (): Promise<BuildRef> => {
    builds++;
    return { id: `build-${builds}`, entry: `/app/.fw/build-${builds}/app.js` };
  });
  const supervisor = new Supervisor({
    resolveBuild,
    workers: 2,
    bootTimeoutMs: BOOT,
    gracefulTimeoutMs: GRACE,
    checkIntervalMs: TICK,
    backoff: BACKOFF,
    ...options,
    spawner,
  });
  const events: SupervisorEvent[] = [];
  supervisor.on((event) => events.push(event));
  const of = <T extends SupervisorEvent['type']>(type: T): EventOf<T>[] =>
    events.filter((event): event is EventOf<T> => event.type === type);
  const indexOf = (predicate: (event: SupervisorEvent) => boolean): number => events.findIndex(predicate);
  return { spawner, supervisor, resolveBuild, events, of, indexOf };
}

/** A supervisor whose first generation is up. */
async function started(options: Parameters<typeof setup>[0] = {}) {
  const context = setup(options);
  const outcome = await within(context.supervisor.start(), 1_000);
  expect(outcome).toMatchObject({ ok: true, generation: 1 });
  return context;
}

function states(supervisor: Supervisor): string[] {
  return supervisor.status().workers.map((worker) => `${worker.id}:g${worker.generation}:${worker.state}`);
}

function ids(workers: readonly FakeWorker[]): number[] {
  return workers.map((worker) => worker.workerId);
}

describe('Supervisor construction', () => {
  it('refuses a worker count below one or not whole', () => {
    const spawner = new FakeSpawner();
    const resolveBuild = async (): Promise<BuildRef> => ({ id: 'b', entry: '/b.js' });
    expect(() => new Supervisor({ spawner, resolveBuild, workers: 0 })).toThrow(RangeError);
    expect(() => new Supervisor({ spawner, resolveBuild, workers: 1.5 })).toThrow(/whole number/);
    expect(spawner.spawn).not.toHaveBeenCalled();
  });
});

describe('start', () => {
  it('serves only once every worker booted, and is ready only once every worker is ready', async () => {
    const spawner = new FakeSpawner().plan(1, [{ bootMs: 10 }, { bootMs: 20 }, { bootMs: 300, readyMs: 50 }]);
    const { supervisor, events, of } = setup({ spawner, workers: 3 });
    const start = track(supervisor.start());

    await advance(0);
    expect(spawner.workers.map((worker) => worker.request)).toEqual([1, 2, 3].map((workerId) => ({
      workerId,
      generation: 1,
      build: { id: 'build-1', entry: '/app/.fw/build-1/app.js' },
    })));
    expect(of('rollout-started')).toEqual([
      { type: 'rollout-started', generation: 1, build: { id: 'build-1', entry: '/app/.fw/build-1/app.js' }, workers: 3 },
    ]);

    // Two of three have booted: the health gate holds, nobody is told to serve.
    await advance(250);
    expect(spawner.workers.map((worker) => worker.sentTypes())).toEqual([[], [], []]);
    expect(states(supervisor)).toEqual(['1:g1:starting', '2:g1:starting', '3:g1:starting']);
    expect(supervisor.status().generation).toBeNull();
    expect(start.settled).toBe(false);

    // The last one boots: all three are told to serve, at that moment.
    await advance(50);
    expect(spawner.workers.map((worker) => worker.sentTypes())).toEqual([['serve'], ['serve'], ['serve']]);
    expect(spawner.workers.map((worker) => worker.sentAt('serve')! - T0)).toEqual([300, 300, 300]);

    // Two are ready, one still listening: the generation is not ready yet.
    await advance(5);
    expect(states(supervisor)).toEqual(['1:g1:ready', '2:g1:ready', '3:g1:starting']);
    expect(of('generation-ready')).toEqual([]);
    expect(supervisor.status().generation).toBeNull();
    expect(start.settled).toBe(false);

    await advance(45);
    expect(start.settled).toBe(true);
    const outcome = start.value;
    expect(outcome).toEqual({ ok: true, generation: 1, build: { id: 'build-1', entry: '/app/.fw/build-1/app.js' }, ms: 350 });
    expect(events.map((event) => event.type)).toEqual([
      'rollout-started',
      'worker-started', 'worker-started', 'worker-started',
      'worker-ready', 'worker-ready', 'worker-ready',
      'generation-ready',
    ]);
    expect(of('generation-ready')[0]).toMatchObject({ generation: 1, pids: [1001, 1002, 1003], ms: 350 });
    expect(supervisor.status()).toMatchObject({
      generation: 1,
      build: 'build-1',
      desiredWorkers: 3,
      stopping: false,
      lastRollout: outcome,
    });
    expect(supervisor.status().workers.map((worker) => worker.readyAt! - T0)).toEqual([305, 305, 350]);
  });

  it('is refused, with nothing spawned, when there is no build', async () => {
    const spawner = new FakeSpawner();
    const { supervisor, of } = setup({
      spawner,
      resolveBuild: async () => {
        throw new Error('no build in /app/.fw/build: run fw build first');
      },
    });
    const outcome = await within(supervisor.start(), 100);
    expect(outcome).toMatchObject({ ok: false, generation: null, error: { message: /run fw build first/ } });
    expect(of('rollout-refused')).toHaveLength(1);
    expect(spawner.spawn).not.toHaveBeenCalled();
    expect(supervisor.status().generation).toBeNull();
  });
});

describe('reload', () => {
  it('drains the old generation only after every new worker is ready', async () => {
    const { supervisor, spawner, of, indexOf } = await started({ workers: 2 });
    const old = spawner.ofGeneration(1);
    spawner.plan(2, [{ bootMs: 100, readyMs: 10 }, { bootMs: 100, readyMs: 400 }]);
    const reload = track(supervisor.reload());

    await advance(110);
    const fresh = spawner.ofGeneration(2);
    expect(ids(fresh)).toEqual([3, 4]);
    expect(fresh.map((worker) => worker.request.build.id)).toEqual(['build-2', 'build-2']);
    expect(states(supervisor)).toEqual(['1:g1:ready', '2:g1:ready', '3:g2:ready', '4:g2:starting']);
    expect(old.map((worker) => worker.sentTypes())).toEqual([['serve'], ['serve']]);

    await advance(389);
    expect(old.map((worker) => worker.sentTypes())).toEqual([['serve'], ['serve']]);
    expect(reload.settled).toBe(false);
    expect(supervisor.status().generation).toBe(1);

    // Ready now; the reload resolves a tick later, once the old workers say they stopped accepting.
    await advance(2);
    expect(reload.settled).toBe(true);
    expect(reload.value).toMatchObject({ ok: true, generation: 2, build: { id: 'build-2' } });
    const lastReadyAt = Math.max(...supervisor.status().workers.filter((w) => w.generation === 2).map((w) => w.readyAt ?? Infinity));
    for (const worker of old) {
      expect(worker.sentTypes()).toEqual(['serve', 'drain']);
      expect(worker.sentAt('drain')).toBeGreaterThanOrEqual(lastReadyAt);
      expect(worker.kills).toEqual([]);
    }
    expect(of('worker-draining').map((event) => [event.worker.id, event.reason])).toEqual([[1, 'reload'], [2, 'reload']]);
    const readyIndex = indexOf((event) => event.type === 'generation-ready' && event.generation === 2);
    const firstDrainIndex = indexOf((event) => event.type === 'worker-draining');
    expect(readyIndex).toBeGreaterThan(-1);
    expect(firstDrainIndex).toBeGreaterThan(readyIndex);

    // While the old ones drain, status shows both generations.
    expect(states(supervisor)).toEqual(['1:g1:draining', '2:g1:draining', '3:g2:ready', '4:g2:ready']);
    expect(supervisor.status()).toMatchObject({ generation: 2, build: 'build-2', lastRollout: reload.value });

    await advance(okBehaviour.drainMs);
    expect(states(supervisor)).toEqual(['3:g2:ready', '4:g2:ready']);
    expect(of('worker-exited').map((event) => [event.worker.id, event.expected, event.exit.code])).toEqual([
      [1, true, 0],
      [2, true, 0],
    ]);
    expect(of('worker-crashed')).toEqual([]);
  });

  it('joins two reloads asked for before either began into one rollout', async () => {
    const { supervisor, spawner, resolveBuild } = await started({ workers: 2 });
    const a = supervisor.reload();
    const b = supervisor.reload();
    const [outcomeA, outcomeB] = await within(Promise.all([a, b]), 1_000);
    expect(outcomeA).toMatchObject({ ok: true, generation: 2 });
    expect(outcomeB).toEqual(outcomeA);
    expect(spawner.generations()).toEqual([1, 2]);
    expect(resolveBuild).toHaveBeenCalledTimes(2);
  });

  it('coalesces reloads asked for during a rollout into exactly one follow-up', async () => {
    const { supervisor, spawner, resolveBuild, of, indexOf } = await started({ workers: 2 });
    spawner.plan(2, { bootMs: 1_000 });
    const first = track(supervisor.reload());
    await advance(100);
    expect(spawner.generations()).toEqual([1, 2]);

    const followers = [supervisor.reload(), supervisor.reload(), supervisor.reload()];
    const trackedFollowers = followers.map((follower) => track(follower));

    // The rollout in progress finishes first; its caller gets generation 2, the others wait.
    await advance(907);
    expect(first.settled).toBe(true);
    expect(first.value).toMatchObject({ ok: true, generation: 2 });
    expect(trackedFollowers.map((follower) => follower.settled)).toEqual([false, false, false]);

    const outcomes = await within(Promise.all(followers), 1_000);
    for (const outcome of outcomes) expect(outcome).toMatchObject({ ok: true, generation: 3, build: { id: 'build-3' } });
    expect(outcomes[1]).toEqual(outcomes[0]);
    expect(outcomes[2]).toEqual(outcomes[0]);

    // Nothing more is coming.
    await advance(10_000);
    expect(spawner.generations()).toEqual([1, 2, 3]);
    expect(spawner.spawn).toHaveBeenCalledTimes(6);
    expect(resolveBuild).toHaveBeenCalledTimes(3);
    expect(of('rollout-started').map((event) => event.generation)).toEqual([1, 2, 3]);
    // The follow-up began only after the first rollout was over: rollouts never interleave.
    expect(indexOf((event) => event.type === 'rollout-started' && event.generation === 3))
      .toBeGreaterThan(indexOf((event) => event.type === 'generation-ready' && event.generation === 2));
    expect(states(supervisor)).toEqual(['5:g3:ready', '6:g3:ready']);
  });
});

describe('a refused rollout', () => {
  /**
   * Generation 1 (3 workers) serves; generation 2 is: one worker that boots at once (and then waits
   * for `serve`), the `bad` one, and one that never boots.
   */
  async function refusedReload(bad: Partial<FakeBehaviour>, waitMs: number, pendingForMs = 0) {
    const context = await started({ workers: 3 });
    const { supervisor, spawner } = context;
    const old = spawner.ofGeneration(1);
    spawner.plan(2, [{ bootMs: 10 }, bad, { boot: 'hang' }]);
    const reloadAt = Date.now();
    const reload = supervisor.reload();
    const tracked = track(reload);
    await advance(pendingForMs);
    const whilePending = {
      settled: tracked.settled,
      kills: spawner.ofGeneration(2).flatMap((worker) => worker.kills),
      killedEvents: context.of('worker-killed').length,
    };
    const outcome = await within(reload, waitMs);
    const [booted, failing, hanging] = spawner.ofGeneration(2) as [FakeWorker, FakeWorker, FakeWorker];
    // Let the refused ones go (a drained one takes drainMs, a killed one exits at once).
    await advance(okBehaviour.drainMs);
    return { ...context, old, outcome, booted, failing, hanging, reloadAt, whilePending };
  }

  type Refused = Awaited<ReturnType<typeof refusedReload>>;

  /** What holds however the new generation failed. */
  async function expectOldKeepsServing(context: Refused, bootedWas: 'drained' | 'killed' = 'drained'): Promise<void> {
    const { supervisor, spawner, old, outcome, booted, hanging, of } = context;
    expect(outcome.ok).toBe(false);
    expect(outcome.generation).toBe(2);
    expect(of('rollout-refused')).toEqual([{ type: 'rollout-refused', generation: 2, error: (outcome as { error: unknown }).error }]);
    expect(of('generation-ready').map((event) => event.generation)).toEqual([1]);

    // The old generation was never told to drain and is still the current one.
    for (const worker of old) {
      expect(worker.sentTypes()).toEqual(['serve']);
      expect(worker.kills).toEqual([]);
      expect(worker.alive).toBe(true);
    }
    expect(supervisor.status()).toMatchObject({ generation: 1, build: 'build-1', lastRollout: outcome });
    expect(states(supervisor)).toEqual(['1:g1:ready', '2:g1:ready', '3:g1:ready']);

    if (bootedWas === 'drained') {
      // The new worker that had booted was drained, never served and never killed.
      expect(booted.sentTypes()).toEqual(['drain']);
      expect(booted.kills).toEqual([]);
      expect(booted.exited).toMatchObject({ code: 0, signal: null });
      expect(of('worker-draining').map((event) => [event.worker.id, event.reason])).toEqual([[booted.workerId, 'refused']]);
    } else {
      // Booted but still not ready at the boot timeout: killed like the others, never served.
      expect(booted.sentTypes()).toEqual([]);
      expect(booted.killSignals()).toEqual(['SIGKILL']);
      expect(of('worker-draining')).toEqual([]);
    }
    // The one that never booted was SIGKILLed, never drained or served.
    expect(hanging.sentTypes()).toEqual([]);
    expect(hanging.killSignals()).toEqual(['SIGKILL']);
    expect(hanging.exited).toMatchObject({ code: null, signal: 'SIGKILL' });
    expect(spawner.ofGeneration(2).every((worker) => !worker.alive)).toBe(true);
    expect(of('worker-crashed')).toEqual([]);

    // The next good build goes live.
    spawner.plan(3, {});
    const next = await within(supervisor.reload(), 1_000);
    expect(next).toMatchObject({ ok: true, generation: 3, build: { id: 'build-3' } });
    expect(supervisor.status().generation).toBe(3);
    for (const worker of old) expect(worker.sentTypes()).toEqual(['serve', 'drain']);
    await advance(okBehaviour.drainMs);
    expect(states(supervisor)).toEqual(['7:g3:ready', '8:g3:ready', '9:g3:ready']);
  }

  it('when a new worker reports a boot error, carries its stack and keeps the old generation', async () => {
    const stack = "TypeError: Cannot read properties of undefined (reading 'port')\n    at createApp (/app/src/app.ts:12:20)";
    const context = await refusedReload(
      { boot: 'boot-error', bootMs: 200, error: { name: 'TypeError', message: "Cannot read properties of undefined (reading 'port')", stack } },
      1_000,
    );
    const { outcome, failing, hanging, reloadAt, of } = context;
    expect(outcome).toMatchObject({
      ok: false,
      generation: 2,
      error: {
        name: 'TypeError',
        message: "worker 5 (pid 1005) of generation 2 failed to start: Cannot read properties of undefined (reading 'port')",
        stack,
        // The app's own error has no fw code: the refusal's is the worker's failure to start.
        code: 'FW_WORKER_START',
      },
    });
    // It exited on its own with the boot-error code; the refusal did not wait for the boot timeout.
    expect(failing.exited).toMatchObject({ code: 3, signal: null });
    expect(failing.kills).toEqual([]);
    expect(hanging.kills[0]!.at - reloadAt).toBeLessThan(BOOT);
    expect(of('worker-killed')).toEqual([]);
    await expectOldKeepsServing(context);
  });

  it('when a new worker exits with code 3 before it is ready', async () => {
    const context = await refusedReload({ boot: 'exit', exitCode: 3, bootMs: 200 }, 1_000);
    expect(context.outcome).toMatchObject({
      ok: false,
      error: { name: 'WorkerStartError', message: 'worker 5 (pid 1005) of generation 2 exited before it was ready (code 3 (boot error))' },
    });
    expect(context.failing.exited).toMatchObject({ code: 3 });
    await expectOldKeepsServing(context);
  });

  it('when a new worker hangs in boot: killed at the boot timeout, not before', async () => {
    const context = await refusedReload({ boot: 'hang' }, 2 * TICK, BOOT - 1);
    const { outcome, booted, failing, hanging, reloadAt, whilePending, of } = context;
    expect(whilePending).toEqual({ settled: false, kills: [], killedEvents: 0 });
    expect(outcome).toMatchObject({
      ok: false,
      generation: 2,
      // The error names a worker that hung, not the sibling that booted and waited for it.
      error: { name: 'WorkerStartError', message: /^worker [56] \(pid \d+\) of generation 2 did not become ready within 5 s \(boot timeout\)$/ },
    });
    // Every one of them reached its boot deadline, the booted one too (it never became ready),
    // the ones that never booted first.
    expect(of('worker-killed').map((event) => [event.worker.id, event.reason])).toEqual([
      [5, 'boot-timeout'],
      [6, 'boot-timeout'],
      [4, 'boot-timeout'],
    ]);
    for (const worker of [booted, failing, hanging]) {
      expect(worker.killSignals()).toEqual(['SIGKILL']);
      expect(worker.kills[0]!.at - reloadAt).toBeGreaterThanOrEqual(BOOT);
      expect(worker.kills[0]!.at - reloadAt).toBeLessThanOrEqual(BOOT + TICK);
    }
    await expectOldKeepsServing(context, 'killed');
  });

  it('when a new worker exits after serve (cannot listen): the ready ones are drained', async () => {
    const { supervisor, spawner, of } = await started({ workers: 2 });
    const old = spawner.ofGeneration(1);
    spawner.plan(2, [{ readyMs: 5 }, { readyMs: 50, serve: 'exit', exitCode: 4 }]);
    const outcome = await within(supervisor.reload(), 1_000);
    expect(outcome).toMatchObject({
      ok: false,
      generation: 2,
      error: { message: 'worker 4 (pid 1004) of generation 2 exited before it was ready (code 4 (listen error))' },
    });
    const [ready] = spawner.ofGeneration(2) as [FakeWorker];
    expect(ready.sentTypes()).toEqual(['serve', 'drain']);
    expect(ready.kills).toEqual([]);
    expect(of('worker-draining').map((event) => [event.worker.id, event.reason])).toEqual([[3, 'refused']]);
    for (const worker of old) expect(worker.sentTypes()).toEqual(['serve']);
    await advance(okBehaviour.drainMs);
    expect(supervisor.status().generation).toBe(1);
    expect(states(supervisor)).toEqual(['1:g1:ready', '2:g1:ready']);
    expect(of('worker-crashed')).toEqual([]);
  });

  it('when a new worker that was ready exits before the rest of its generation is ready', async () => {
    const { supervisor, spawner, of } = await started({ workers: 2 });
    const old = spawner.ofGeneration(1);
    spawner.plan(2, [{ readyMs: 5 }, { readyMs: 300 }]);
    const reload = supervisor.reload();
    await advance(OK_MS + 10);
    const [early] = spawner.ofGeneration(2) as [FakeWorker];
    expect(states(supervisor)).toContain('3:g2:ready');
    early.crash(1);
    const outcome = await within(reload, 1_000);
    await advance(1_000);
    // The design: a generation that loses a worker before it is all ready is refused, the old one
    // keeps serving at full strength. (Accepting it would leave fewer workers than asked for, with
    // nothing to replace the lost one.)
    expect(outcome).toMatchObject({ ok: false, generation: 2, error: { message: /worker 3 .* of generation 2 exited/ } });
    for (const worker of old) expect(worker.sentTypes()).toEqual(['serve']);
    expect(supervisor.status().generation).toBe(1);
    expect(states(supervisor)).toEqual(['1:g1:ready', '2:g1:ready']);
    expect(of('worker-crashed')).toEqual([]);
  });
});

describe('crashes', () => {
  it('replaces a crashed ready worker at once, then backs off per restartDelay', async () => {
    const { supervisor, spawner, of } = await started({ workers: 2 });
    // initialMs 250 doubling, capped at maxMs 2000.
    const delays = [0, 250, 500, 1_000, 2_000, 2_000];
    for (const [crash, delay] of delays.entries()) {
      const victim = spawner.alive().at(-1)!;
      const spawnedBefore = spawner.workers.length;
      victim.crash(1);
      await advance(0);
      expect(of('worker-exited').at(-1)).toMatchObject({ worker: { id: victim.workerId }, exit: { code: 1, signal: null }, expected: false });
      expect(of('worker-crashed')).toHaveLength(crash + 1);
      expect(of('worker-crashed').at(-1)).toMatchObject({
        worker: { id: victim.workerId, generation: 1 },
        exit: { code: 1, signal: null },
        restartInMs: delay,
      });
      if (delay > 0) {
        await advance(delay - 1);
        expect(spawner.workers.length).toBe(spawnedBefore);
        await advance(1);
      }
      expect(spawner.workers.length).toBe(spawnedBefore + 1);
      const replacement = spawner.workers.at(-1)!;
      expect(replacement.request).toMatchObject({ generation: 1, build: { id: 'build-1' } });
      await advance(OK_MS);
      expect(replacement.sentTypes()).toEqual(['serve']);
      expect(supervisor.status().workers.filter((worker) => worker.state === 'ready')).toHaveLength(2);
    }
    // Nothing else was started, and generation 1 is still the one serving.
    expect(spawner.generations()).toEqual([1]);
    expect(supervisor.status().generation).toBe(1);

    // Once the crashes have left the window, the next one is an accident again: replaced at once.
    await advance(BACKOFF.windowMs);
    spawner.alive().at(-1)!.crash(1);
    await advance(0);
    expect(of('worker-crashed').at(-1)!.restartInMs).toBe(0);
    expect(spawner.workers.length).toBe(2 + delays.length + 1);
  });

  it('does not replace a worker of an old, draining generation', async () => {
    const spawner = new FakeSpawner().plan(1, { drain: 'ignore' });
    const { supervisor, of } = await started({ workers: 2, spawner });
    await within(supervisor.reload(), 1_000);
    const [old1] = spawner.ofGeneration(1) as [FakeWorker];
    expect(states(supervisor)).toContain('1:g1:draining');
    const spawned = spawner.workers.length;

    old1.crash(1);
    await advance(BACKOFF.maxMs);
    expect(of('worker-exited').find((event) => event.worker.id === 1)).toMatchObject({ exit: { code: 1 }, expected: true });
    expect(of('worker-crashed')).toEqual([]);
    expect(spawner.workers.length).toBe(spawned);
    expect(states(supervisor)).toEqual(['2:g1:draining', '3:g2:ready', '4:g2:ready']);
  });

  it('a crash during a rollout is not replaced once the new generation is current', async () => {
    const { supervisor, spawner, of } = await started({ workers: 2 });
    spawner.plan(2, { bootMs: 500 });
    const reload = supervisor.reload();
    await advance(100);
    spawner.byId(1).crash(1);
    await advance(0);
    // Generation 1 was still current: a crash, with a replacement scheduled.
    expect(of('worker-crashed').map((event) => [event.worker.id, event.restartInMs])).toEqual([[1, 0]]);

    expect(await within(reload, 1_000)).toMatchObject({ ok: true, generation: 2 });
    await advance(1_000);
    expect(spawner.ofGeneration(1)).toHaveLength(2);
    expect(spawner.workers).toHaveLength(4);
    expect(states(supervisor)).toEqual(['3:g2:ready', '4:g2:ready']);
  });

  it('a crash during a refused rollout is replaced once the rollout is over', async () => {
    const { supervisor, spawner } = await started({ workers: 2 });
    spawner.plan(2, { boot: 'boot-error', bootMs: 500 });
    const reload = track(supervisor.reload());
    await advance(100);
    spawner.byId(1).crash(1);
    await advance(0);
    // One at a time: the replacement waits for the rollout in progress.
    expect(spawner.ofGeneration(1)).toHaveLength(2);
    expect(reload.settled).toBe(false);

    await advance(400 + OK_MS + 10);
    expect(reload.value).toMatchObject({ ok: false, generation: 2 });
    expect(spawner.ofGeneration(1)).toHaveLength(3);
    expect(supervisor.status().generation).toBe(1);
    expect(states(supervisor)).toEqual(['2:g1:ready', '5:g1:ready']);
  });

  it('a replacement that fails to boot is retried after a back-off, carrying its error', async () => {
    const stack = 'Error: database unreachable\n    at connect (/app/src/db.ts:4:11)';
    const spawner = new FakeSpawner().plan(1, [{}, {}, { boot: 'boot-error', bootMs: 50, error: { name: 'Error', message: 'database unreachable', stack } }]);
    const { supervisor, of } = await started({ workers: 2, spawner });
    spawner.byId(1).crash(1);
    await advance(0);
    expect(spawner.workers).toHaveLength(3);
    await advance(50);
    // Two failures in the window (the crash and the failed replacement): the second back-off step.
    expect(of('replacement-failed')).toEqual([
      { type: 'replacement-failed', generation: 1, retryInMs: BACKOFF.initialMs, error: expect.objectContaining({ stack, message: expect.stringContaining('database unreachable') }) },
    ]);
    await advance(BACKOFF.initialMs - 1);
    expect(spawner.workers).toHaveLength(3);
    await advance(1);
    expect(spawner.workers).toHaveLength(4);
    await advance(OK_MS);
    expect(states(supervisor)).toEqual(['2:g1:ready', '4:g1:ready']);
  });
});

describe('drain timeout', () => {
  it('SIGKILLs an old worker that ignores drain once gracefulTimeoutMs has passed, not before', async () => {
    const spawner = new FakeSpawner().plan(1, { drain: 'ignore' });
    const { supervisor, of } = await started({ workers: 2, spawner });
    await within(supervisor.reload(), 1_000);
    const old = spawner.ofGeneration(1);
    const drainAt = old[0]!.sentAt('drain')!;
    expect(old.map((worker) => worker.sentAt('drain'))).toEqual([drainAt, drainAt]);

    await advance(drainAt + GRACE - 1 - Date.now());
    expect(old.flatMap((worker) => worker.kills)).toEqual([]);
    expect(of('worker-killed')).toEqual([]);
    expect(states(supervisor)).toEqual(['1:g1:draining', '2:g1:draining', '3:g2:ready', '4:g2:ready']);

    await advance(TICK);
    for (const worker of old) {
      expect(worker.killSignals()).toEqual(['SIGKILL']);
      expect(worker.kills[0]!.at - drainAt).toBeGreaterThanOrEqual(GRACE);
      expect(worker.kills[0]!.at - drainAt).toBeLessThanOrEqual(GRACE + TICK);
    }
    expect(of('worker-killed').map((event) => [event.worker.id, event.reason])).toEqual([
      [1, 'drain-timeout'],
      [2, 'drain-timeout'],
    ]);
    await advance(0);
    expect(of('worker-exited').map((event) => [event.worker.id, event.exit.signal, event.expected])).toEqual([
      [1, 'SIGKILL', true],
      [2, 'SIGKILL', true],
    ]);
    expect(of('worker-crashed')).toEqual([]);
    expect(states(supervisor)).toEqual(['3:g2:ready', '4:g2:ready']);
    // The new generation was never touched.
    for (const worker of spawner.ofGeneration(2)) expect(worker.kills).toEqual([]);
  });
});

describe('stop', () => {
  it('drains every worker and resolves only after all have exited', async () => {
    const spawner = new FakeSpawner({ drainMs: 500 });
    const { supervisor, of, events } = await started({ workers: 2, spawner });
    const stop = track(supervisor.stop());
    await advance(0);
    expect(supervisor.status().stopping).toBe(true);
    expect(spawner.workers.map((worker) => worker.sentTypes())).toEqual([['serve', 'drain'], ['serve', 'drain']]);
    expect(of('worker-draining').map((event) => [event.worker.id, event.reason])).toEqual([[1, 'stop'], [2, 'stop']]);

    await advance(499);
    expect(stop.settled).toBe(false);
    expect(of('stopped')).toEqual([]);

    await advance(1);
    expect(stop.settled).toBe(true);
    expect(spawner.alive()).toEqual([]);
    expect(spawner.workers.flatMap((worker) => worker.kills)).toEqual([]);
    expect(events.at(-1)).toEqual({ type: 'stopped' });
    expect(supervisor.status().workers).toEqual([]);

    // Stopped is final: no rollout, no scaling, no replacement.
    expect(await within(supervisor.reload(), 100)).toMatchObject({ ok: false, generation: null });
    expect(await within(supervisor.scale(1), 100)).toBe(2);
    expect(spawner.workers).toHaveLength(2);
  });

  it('during a rollout that hangs in boot, does not wait for the boot timeout', async () => {
    const { supervisor, spawner, of } = await started({ workers: 2 });
    spawner.plan(2, { boot: 'hang' });
    const reload = supervisor.reload();
    await advance(100);
    expect(spawner.ofGeneration(2)).toHaveLength(2);

    const stopAt = Date.now();
    await within(supervisor.stop(), 500);
    expect(Date.now() - stopAt).toBeLessThan(BOOT);
    expect(await reload).toMatchObject({ ok: false, generation: 2, error: { message: 'the master is stopping' } });
    for (const worker of spawner.ofGeneration(2)) {
      expect(worker.killSignals()).toEqual(['SIGKILL']);
      expect(worker.sentTypes()).toEqual([]);
    }
    for (const worker of spawner.ofGeneration(1)) {
      expect(worker.sentTypes()).toEqual(['serve', 'drain']);
      expect(worker.kills).toEqual([]);
    }
    expect(of('worker-killed').filter((event) => event.reason === 'boot-timeout')).toEqual([]);
    expect(spawner.alive()).toEqual([]);
    expect(of('stopped')).toHaveLength(1);
  });

  it('with force, SIGKILLs every worker at once', async () => {
    const spawner = new FakeSpawner({ drain: 'ignore' });
    const { supervisor, of } = await started({ workers: 2, spawner });
    await within(supervisor.stop({ force: true }), 50);
    for (const worker of spawner.workers) {
      expect(worker.killSignals()).toContain('SIGKILL');
      expect(worker.exited).toMatchObject({ signal: 'SIGKILL' });
    }
    expect(of('worker-killed').map((event) => [event.worker.id, event.reason])).toEqual([[1, 'stop'], [2, 'stop']]);
    expect(of('stopped')).toHaveLength(1);
    expect(supervisor.status().workers).toEqual([]);
  });

  it('with force during a graceful stop, kills the workers that ignore drain and ends that stop too', async () => {
    const spawner = new FakeSpawner({ drain: 'ignore' });
    const { supervisor, of } = await started({ workers: 2, spawner });
    const graceful = track(supervisor.stop());
    await advance(GRACE / 2);
    expect(graceful.settled).toBe(false);
    expect(spawner.workers.flatMap((worker) => worker.kills)).toEqual([]);

    const forcedAt = Date.now();
    await within(supervisor.stop({ force: true }), 50);
    expect(graceful.settled).toBe(true);
    expect(Date.now() - forcedAt).toBeLessThan(GRACE / 2);
    for (const worker of spawner.workers) expect(worker.killSignals()).toEqual(['SIGKILL']);
    expect(of('worker-killed').map((event) => event.reason)).toEqual(['stop', 'stop']);
    expect(of('stopped')).toHaveLength(1);
  });

  it('a graceful stop still kills a worker that ignores drain at the graceful timeout', async () => {
    const spawner = new FakeSpawner({ drain: 'ignore' });
    const { supervisor, of } = await started({ workers: 1, spawner });
    const stopAt = Date.now();
    const stop = track(supervisor.stop());
    await advance(GRACE - 1);
    expect(stop.settled).toBe(false);
    await within(supervisor.stop(), TICK * 2);
    expect(Date.now() - stopAt).toBeGreaterThanOrEqual(GRACE);
    expect(of('worker-killed').map((event) => event.reason)).toEqual(['drain-timeout']);
  });
});

describe('scale', () => {
  it('+1 starts one more worker of the current generation and resolves once it is ready', async () => {
    const { supervisor, spawner, of, indexOf } = await started({ workers: 2 });
    const scaled = await within(supervisor.scale(1), 1_000);
    expect(scaled).toBe(3);
    expect(spawner.workers).toHaveLength(3);
    expect(spawner.workers[2]!.request).toMatchObject({ workerId: 3, generation: 1, build: { id: 'build-1' } });
    expect(spawner.workers[2]!.sentTypes()).toEqual(['serve']);
    expect(states(supervisor)).toEqual(['1:g1:ready', '2:g1:ready', '3:g1:ready']);
    expect(supervisor.status().desiredWorkers).toBe(3);
    expect(of('scaled')).toEqual([{ type: 'scaled', workers: 3 }]);
    expect(indexOf((event) => event.type === 'scaled')).toBeGreaterThan(indexOf((event) => event.type === 'worker-ready' && event.worker.id === 3));
    // A later reload starts as many as are now asked for.
    await within(supervisor.reload(), 1_000);
    expect(spawner.ofGeneration(2)).toHaveLength(3);
  });

  it('-1 drains the oldest worker, and never goes below one', async () => {
    const { supervisor, spawner, of } = await started({ workers: 2 });
    expect(await within(supervisor.scale(-1), 100)).toBe(1);
    expect(spawner.byId(1).sentTypes()).toEqual(['serve', 'drain']);
    expect(spawner.byId(2).sentTypes()).toEqual(['serve']);
    expect(of('worker-draining').map((event) => [event.worker.id, event.reason])).toEqual([[1, 'scale-down']]);
    await advance(okBehaviour.drainMs);
    expect(states(supervisor)).toEqual(['2:g1:ready']);

    expect(await within(supervisor.scale(-1), 100)).toBe(1);
    await advance(1_000);
    expect(spawner.byId(2).sentTypes()).toEqual(['serve']);
    expect(states(supervisor)).toEqual(['2:g1:ready']);
    expect(supervisor.status().desiredWorkers).toBe(1);
    expect(of('scaled').map((event) => event.workers)).toEqual([1, 1]);
    // Its scale-down was no crash: nothing was started to replace it.
    expect(spawner.workers).toHaveLength(2);
    expect(of('worker-crashed')).toEqual([]);
  });

  it('-1 picks the oldest by start time, not a crash replacement', async () => {
    const { supervisor, spawner, of } = await started({ workers: 2 });
    spawner.byId(1).crash(1);
    await advance(OK_MS);
    expect(states(supervisor)).toEqual(['2:g1:ready', '3:g1:ready']);
    await within(supervisor.scale(-1), 100);
    expect(of('worker-draining').map((event) => event.worker.id)).toEqual([2]);
    expect(spawner.byId(3).sentTypes()).toEqual(['serve']);
  });

  it('before start only changes how many the first generation gets', async () => {
    const { supervisor, spawner } = setup({ workers: 2 });
    expect(await within(supervisor.scale(1), 100)).toBe(3);
    expect(spawner.spawn).not.toHaveBeenCalled();
    await within(supervisor.start(), 1_000);
    expect(spawner.ofGeneration(1)).toHaveLength(3);
  });
});

describe('bake time', () => {
  const BAKE = 3_000;

  it('rolls back to the build it replaced when a worker of the new generation crashes within the bake time', async () => {
    const { supervisor, spawner, of } = await started({ workers: 2, bakeTimeMs: BAKE });
    const reloading = supervisor.reload();
    const reload = track(reloading);
    await advance(OK_MS + 200);
    expect(supervisor.status().baking).toMatchObject({ generation: 2 });
    expect(reload.settled).toBe(false);

    const [crashing] = spawner.ofGeneration(2) as [FakeWorker];
    crashing.crash(1);
    const outcome = await within(reloading, 1_000);
    expect(outcome).toMatchObject({ ok: false, generation: 2, rolledBack: { generation: 3, build: 'build-1' } });
    expect(!outcome.ok && outcome.error.message).toMatch(/generation 2 failed within its 3 s bake time: worker 3 \(pid \d+\) exited 0\.\d s after it was ready \(code 1\); rolled back to build build-1 \(generation 3\)/);
    expect(of('rollback-started')).toHaveLength(1);
    expect(of('rolled-back')).toMatchObject([{ generation: 2, to: 3, build: { id: 'build-1' } }]);
    expect(spawner.ofGeneration(3).map((worker) => worker.request.build.id)).toEqual(['build-1', 'build-1']);
    expect(supervisor.status()).toMatchObject({ generation: 3, build: 'build-1', baking: null, counters: { reloads: { ok: 1, refused: 0, rolledBack: 1 } } });
    await advance(GRACE);
    expect(states(supervisor)).toEqual(['5:g3:ready', '6:g3:ready']);
  });

  it('keeps the new build once the bake time passes without a crash, and a later crash is replaced as usual', async () => {
    const { supervisor, spawner, of } = await started({ workers: 2, bakeTimeMs: BAKE });
    const outcome = await within(supervisor.reload(), BAKE + 1_000);
    expect(outcome).toMatchObject({ ok: true, generation: 2 });
    expect(supervisor.status().baking).toBeNull();
    (spawner.ofGeneration(2)[0] as FakeWorker).crash(1);
    await advance(OK_MS + 50);
    expect(of('rollback-started')).toEqual([]);
    expect(of('worker-crashed')).toHaveLength(1);
    expect(supervisor.status().generation).toBe(2);
  });

  it('does not bake the first generation, and a stop ends a bake at once', async () => {
    const { supervisor } = await started({ workers: 1, bakeTimeMs: BAKE });
    expect(supervisor.status().baking).toBeNull();
    const reload = supervisor.reload();
    await advance(OK_MS + 200);
    expect(supervisor.status().baking).not.toBeNull();
    const stopped = supervisor.stop();
    await expect(within(reload, 100)).resolves.toMatchObject({ ok: true, generation: 2 });
    await within(stopped, GRACE + 1_000);
  });
});
