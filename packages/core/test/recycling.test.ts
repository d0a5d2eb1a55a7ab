/**
 * Heartbeats and recycling on the fake spawner and clock: a stuck worker is killed and replaced,
 * a worker over a limit is replaced before it drains, and none of it counts as a crash.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { WorkerStats } from '../src/ipc.js';
import type { BuildRef } from '../src/spawner.js';
import { Supervisor, type SupervisorEvent, type SupervisorOptions } from '../src/supervisor.js';
import { FakeSpawner, type FakeWorker } from './fake-spawner.js';

const TICK = 100;

beforeEach(() => {
  vi.useFakeTimers({ now: Date.UTC(2030, 0, 1) });
});
afterEach(() => {
  vi.clearAllTimers();
  vi.useRealTimers();
});

async function advance(ms: number): Promise<void> {
  for (let waited = 0; waited < ms; waited += 10) await vi.advanceTimersByTimeAsync(10);
}

async function startedWith(options: Partial<SupervisorOptions>) {
  const spawner = new FakeSpawner();
  const resolveBuild = async (): Promise<BuildRef> => ({ id: 'b1', entry: '/app/b1/app.mjs' });
  const supervisor = new Supervisor({ spawner, resolveBuild, workers: 2, gracefulTimeoutMs: 2_000, checkIntervalMs: TICK, ...options });
  const events: SupervisorEvent[] = [];
  supervisor.on((event) => events.push(event));
  const start = supervisor.start();
  await advance(200);
  expect(await start).toMatchObject({ ok: true });
  return { spawner, supervisor, events };
}

const beat = (worker: FakeWorker, stats: Partial<WorkerStats> = {}) =>
  worker.emit({ type: 'heartbeat', stats: { rss: 50e6, served: 0, inFlight: 0, ...stats } });

describe('heartbeat timeout', () => {
  it('kills a silent worker at once and starts its replacement; the other keeps going; no crash counted', async () => {
    const { spawner, supervisor, events } = await startedWith({ heartbeatTimeoutMs: 3_000 });
    const [stuck, healthy] = spawner.ofGeneration(1) as [FakeWorker, FakeWorker];
    // The healthy one keeps beating; the stuck one falls silent.
    const timer = setInterval(() => beat(healthy), 1_000);
    // Its last sign of life was during start-up, at most 200 ms ago.
    await advance(2_700);
    expect(stuck.kills).toEqual([]);
    await advance(700);
    const recycling = events.find((event) => event.type === 'worker-recycling');
    expect(recycling).toMatchObject({ cause: 'unresponsive', worker: { id: stuck.workerId } });
    // Killed at once, before its replacement has even booted: it serves nothing anyway.
    expect(stuck.killSignals()).toEqual(['SIGKILL']);
    const replacement = spawner.workers[2]!;
    expect(replacement.generation).toBe(1);
    const killedAt = events.findIndex((event) => event.type === 'worker-killed' && event.reason === 'unresponsive');
    await advance(200);
    const readyAt = events.findIndex((event) => event.type === 'worker-ready' && event.worker.id === replacement.workerId);
    expect(killedAt).toBeGreaterThan(-1);
    expect(readyAt).toBeGreaterThan(killedAt);
    expect(healthy.kills).toEqual([]);
    await advance(500);
    expect(supervisor.status().workers.filter((worker) => worker.state === 'ready')).toHaveLength(2);
    expect(spawner.workers).toHaveLength(3); // no second replacement for the "crash" of the killed one
    expect(supervisor.status().counters.restarts).toMatchObject({ unresponsive: 1, crash: 0 });
    clearInterval(timer);
  });
});

describe('repeated heartbeat timeouts', () => {
  it('back off like crashes: each stuck replacement waits longer before the next one starts', async () => {
    const { spawner, supervisor, events } = await startedWith({ workers: 1, heartbeatTimeoutMs: 3_000 });
    // No worker ever beats: every one is stuck as soon as it is ready.
    const kills = () => events.filter((event) => event.type === 'worker-recycling' && event.cause === 'unresponsive');
    const untilKill = async (killNumber: number) => {
      // Step by step, so the check stops within 10 ms of the kill.
      for (let waited = 0; kills().length < killNumber && waited < 10_000; waited += 10) await advance(10);
      expect(kills()).toHaveLength(killNumber);
    };

    // The first kill in a minute is replaced at once, as the first crash is.
    const before1 = spawner.workers.length;
    await untilKill(1);
    await advance(20);
    expect(spawner.workers).toHaveLength(before1 + 1);

    // The second waits 250 ms: no replacement before, one after.
    const before2 = spawner.workers.length;
    await untilKill(2);
    await advance(220);
    expect(spawner.workers).toHaveLength(before2);
    await advance(50);
    expect(spawner.workers).toHaveLength(before2 + 1);

    // The third waits twice as long.
    const before3 = spawner.workers.length;
    await untilKill(3);
    await advance(470);
    expect(spawner.workers).toHaveLength(before3);
    await advance(50);
    expect(spawner.workers).toHaveLength(before3 + 1);

    expect(kills().map((event) => (event as { restartInMs?: number }).restartInMs)).toEqual([0, 250, 500]);
    expect(supervisor.status().counters.restarts).toMatchObject({ unresponsive: 3, crash: 0 });
  });
});

describe('recycling limits', () => {
  it('recycles a worker after max-requests: the replacement is ready before the old one drains', async () => {
    const { spawner, supervisor, events } = await startedWith({ maxRequests: { limit: 100, jitter: 0 } });
    const [first] = spawner.ofGeneration(1) as [FakeWorker];
    beat(first, { served: 99 });
    await advance(100);
    expect(spawner.workers).toHaveLength(2);
    beat(first, { served: 100 });
    await advance(200);
    const replacement = spawner.workers[2]!;
    const readyAt = events.findIndex((event) => event.type === 'worker-ready' && event.worker.id === replacement.workerId);
    const drainAt = events.findIndex((event) => event.type === 'worker-draining' && event.worker.id === first.workerId);
    expect(readyAt).toBeGreaterThan(-1);
    expect(drainAt).toBeGreaterThan(readyAt);
    expect(events[drainAt]).toMatchObject({ reason: 'max-requests' });
    expect(first.sentTypes()).toContain('drain');
    expect(first.killSignals()).toEqual([]);
    await advance(200);
    expect(supervisor.status().counters.restarts).toMatchObject({ 'max-requests': 1, crash: 0 });
  });

  it('draws each limit within the jitter: never before the limit, always by limit + jitter', async () => {
    const { spawner } = await startedWith({ maxRequests: { limit: 10, jitter: 5 } });
    for (const worker of spawner.ofGeneration(1)) beat(worker, { served: 9 });
    await advance(300);
    expect(spawner.workers).toHaveLength(2);
    for (const worker of spawner.ofGeneration(1)) beat(worker, { served: 15 });
    await advance(300);
    expect(spawner.workers).toHaveLength(4);
  });

  it('recycles a worker over max-memory, and keeps it serving if no replacement can start', async () => {
    const { spawner, supervisor, events } = await startedWith({ maxMemoryBytes: 100e6 });
    const [big] = spawner.ofGeneration(1) as [FakeWorker];
    spawner.plan(1, { boot: 'boot-error', bootMs: 10 });
    beat(big, { rss: 150e6 });
    await advance(300);
    expect(events.find((event) => event.type === 'worker-recycling')).toMatchObject({ cause: 'max-memory', detail: 'uses 143 MB (limit 95 MB)' });
    expect(big.sentTypes()).not.toContain('drain');
    expect(supervisor.status().workers.find((worker) => worker.id === big.workerId)?.state).toBe('ready');
  });
});

describe('spreading connections', () => {
  it('asks a worker holding well over its share of connections to let the excess go, at most every interval', async () => {
    const { spawner, events } = await startedWith({ balanceIntervalMs: 5_000 });
    const [crowded, idle] = spawner.ofGeneration(1) as [FakeWorker, FakeWorker];
    beat(idle, { connections: 0 });
    beat(crowded, { connections: 32 });
    expect(crowded.sent.map((sent) => sent.message)).toContainEqual(expect.objectContaining({ type: 'shed', count: 16 }));
    expect(idle.sentTypes()).not.toContain('shed');
    expect(events.find((event) => event.type === 'connections-shed')).toMatchObject({ count: 16, connections: 32, total: 32, workers: 2 });
    // Still crowded a moment later: not asked again before the interval.
    beat(crowded, { connections: 30 });
    expect(crowded.sentTypes().filter((type) => type === 'shed')).toHaveLength(1);
    await advance(5_000);
    beat(crowded, { connections: 24 });
    expect(crowded.sentTypes().filter((type) => type === 'shed')).toHaveLength(2);
  });

  it('leaves an even spread, a single worker and workers without a count alone', async () => {
    const even = await startedWith({});
    const [a, b] = even.spawner.ofGeneration(1) as [FakeWorker, FakeWorker];
    beat(a, { connections: 17 });
    beat(b, { connections: 15 });
    expect([...a.sentTypes(), ...b.sentTypes()]).not.toContain('shed');
    const unknown = await startedWith({});
    const [c] = unknown.spawner.ofGeneration(1) as [FakeWorker, FakeWorker];
    beat(c, { connections: 40 }); // the other has not said how many it holds
    expect(c.sentTypes()).not.toContain('shed');
    const single = await startedWith({ workers: 1 });
    const [alone] = single.spawner.ofGeneration(1) as [FakeWorker];
    beat(alone, { connections: 40 });
    expect(alone.sentTypes()).not.toContain('shed');
  });
});

describe('spreading connections after a new worker', () => {
  it('looks again as soon as a new worker is ready, without waiting for the interval', async () => {
    const { spawner, supervisor } = await startedWith({ balanceIntervalMs: 60_000 });
    const [crowded, other] = spawner.ofGeneration(1) as [FakeWorker, FakeWorker];
    beat(other, { connections: 0 });
    beat(crowded, { connections: 20 });
    expect(crowded.sentTypes().filter((type) => type === 'shed')).toHaveLength(1);
    // A third worker comes (TTIN): the next counts are acted on at once.
    const scaled = supervisor.scale(1);
    await advance(300);
    expect(await scaled).toBe(3);
    const added = spawner.workers[2]!;
    beat(other, { connections: 10 });
    beat(crowded, { connections: 10 });
    // Nothing until the new worker has reported its own count.
    expect(other.sentTypes()).not.toContain('shed');
    beat(added, { connections: 0 });
    expect(other.sentTypes().filter((type) => type === 'shed')).toHaveLength(1);
    expect(crowded.sentTypes().filter((type) => type === 'shed')).toHaveLength(2);
  });
});
