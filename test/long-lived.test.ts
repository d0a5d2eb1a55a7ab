import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isAlive, workerPids } from './helpers/fw-process.js';
import { setVersion, writeFastifyLongLivedApp, writeListenWsApp } from './helpers/long-lived-apps.js';
import {
  type EventStreamEnded,
  type LongLivedClient,
  openEventStream,
  openWebSocket,
  type WebSocketClosed,
  within,
} from './helpers/long-lived-clients.js';
import { firstAnswer, get, type RunningFw, runFw } from './helpers/written-apps.js';
import { appSuite, build, DEV, expectNoneFailed, itIsWrittenAndInstalled, packedFw, reload, START, underLoad } from './helpers/written-suite.js';

/**
 * WebSockets and event streams across a reload (issue 13), with apps written outside the
 * repository and fw installed from the packed tarballs: a Fastify app with @fastify/websocket, a
 * node:http server.ts with `ws` that hears the drain on SIGTERM, and the same server that ignores
 * it. When a worker drains (fw reload, fw stop, a save under fw dev), the app's close path runs at
 * once (Fastify's preClose hooks; SIGTERM for a server that listens for it), and whatever is still
 * open at the long-lived timeout fw closes itself: a WebSocket close frame (1012 while other
 * workers go on serving, 1001 on a stop), an event stream ended as a complete response. No client
 * sees a cut connection (1006, ECONNRESET), the old worker is gone in seconds rather than at the
 * graceful timeout (the default 30 s here), new connections reach the new version, and a
 * kept-alive load running through it fails no request.
 */

const packed = packedFw('fw-long-lived-packs-');

/** How long after the drain starts a client may wait for its close, past what the app (or fw's long-lived timeout) takes. */
const CLOSE_WITHIN_MS = 3_000;
/** How long after the reload (or the save going live) the old worker may take to exit: well short of the 30 s graceful timeout. */
const OLD_WORKER_GONE_MS = 8_000;
/** Kept-alive connections of the load that runs through each reload and save; it never retries. */
const CONNECTIONS = 4;

interface LongLivedApp {
  name: string;
  title: string;
  write(dir: string): Promise<void>;
  /** The source file with the VERSION line. */
  source: string;
  /** Flags for fw start beyond START. */
  startFlags: string[];
  /** The close code a WebSocket client gets on each kind of drain. */
  codes: { reload: number; stop: number; dev: number };
  /** The close reason, where the app gives one. */
  reason?: string;
  /** How long the connections stay open after the drain starts: 0 where the app closes them, the long-lived timeout where fw must (fw start, fw dev). */
  openForMs: { start: number; dev: number };
  /** fw closes them: they must not end before most of the long-lived timeout has passed. */
  fwCloses: boolean;
}

const apps: LongLivedApp[] = [
  {
    name: 'fastify',
    title: 'a Fastify factory with @fastify/websocket and an event stream its preClose hook ends',
    write: writeFastifyLongLivedApp,
    source: 'src/app.ts',
    startFlags: [],
    // @fastify/websocket's preClose closes its clients with no status: the client reads 1005.
    codes: { reload: 1005, stop: 1005, dev: 1005 },
    openForMs: { start: 0, dev: 0 },
    fwCloses: false,
  },
  {
    name: 'listen-ws',
    title: "a node:http src/server.ts that listens itself, with ws's WebSocketServer, closing its WebSockets (1012) and event streams on SIGTERM",
    write: (dir) => writeListenWsApp(dir, { name: 'listen-ws', onSigterm: true }),
    source: 'src/server.ts',
    startFlags: [],
    codes: { reload: 1012, stop: 1012, dev: 1012 },
    reason: 'restarting',
    openForMs: { start: 0, dev: 0 },
    fwCloses: false,
  },
  {
    name: 'listen-ignores-drain',
    title: 'the same node:http server with no SIGTERM handler: fw closes what it leaves open at --long-lived-timeout 1',
    write: (dir) => writeListenWsApp(dir, { name: 'listen-ignores-drain', onSigterm: false }),
    source: 'src/server.ts',
    startFlags: ['--long-lived-timeout', '1'],
    codes: { reload: 1012, stop: 1001, dev: 1012 },
    // fw start --long-lived-timeout 1; fw dev's is 1 s.
    openForMs: { start: 1_000, dev: 1_000 },
    fwCloses: true,
  },
];

interface WorkerStatus {
  pid: number;
  generation: number;
  state: string;
  drainingSince: number | null;
  deadline: { at: number; reason: string } | null;
  stats: { upgraded?: number; eventStreams?: number; longLivedCloseAt?: number | null } | null;
}
interface StatusJson {
  workers: WorkerStatus[];
}

async function status(dir: string): Promise<StatusJson> {
  const result = await runFw(dir, ['status', '--json'], 10_000);
  expect(result.exitCode, result.all).toBe(0);
  return JSON.parse(result.stdout) as StatusJson;
}

/** Asks `fw status --json` until `check` passes; fails with the last answer after `timeoutMs`. */
async function statusUntil(dir: string, check: (now: StatusJson) => boolean, timeoutMs: number, what: string): Promise<StatusJson> {
  const deadline = Date.now() + timeoutMs;
  let last = await status(dir);
  while (!check(last) && Date.now() < deadline) last = await status(dir);
  expect(check(last), `${what}; fw status --json said:\n${JSON.stringify(last, null, 2)}`).toBe(true);
  return last;
}

const sum = (workers: WorkerStatus[], key: 'upgraded' | 'eventStreams') => workers.reduce((total, worker) => total + (worker.stats?.[key] ?? 0), 0);

/** The ws:// URL of the app's WebSocket route. */
const wsUrl = (fw: RunningFw) => `${fw.url.replace(/^http/, 'ws')}/ws`;

/** Long-lived clients a test opened: every one closed from the client's side when the test ends, however it ends. */
function clientsOfTest() {
  const open: LongLivedClient<unknown>[] = [];
  const track = <T extends LongLivedClient<unknown>>(client: T): T => {
    open.push(client);
    return client;
  };
  return {
    webSocket: (fw: RunningFw) => track(openWebSocket(wsUrl(fw))),
    eventStream: (fw: RunningFw) => track(openEventStream(fw.url)),
    closeAll: () => Promise.all(open.map((client) => client.close())),
  };
}

/** What a client saw, for failure messages. */
const describeClose = (closed: WebSocketClosed, since: number) => `close ${closed.code} '${closed.reason}' ${closed.at - since} ms after; errors: ${closed.errors.join('; ') || 'none'}`;
const describeEnd = (ended: EventStreamEnded, since: number) =>
  `${ended.clean ? 'clean end' : `error ${ended.error}`} ${ended.at - since} ms after; connection closed by the server: ${ended.disconnectedAt() === undefined ? 'not yet' : `${ended.disconnectedAt()! - since} ms after`}`;

/**
 * Waits for a WebSocket's close and an event stream's end, each by `deadline` (ms epoch), and
 * checks how they ended: a close frame with `code` (and `reason`), a complete body. `since` is when
 * the drain began (for the messages and the lower bound of `notBefore`).
 */
async function expectClosed(
  socket: LongLivedClient<WebSocketClosed>,
  stream: LongLivedClient<EventStreamEnded>,
  expected: { code: number; reason?: string; since: number; deadline: number; notBefore?: number; what: string },
): Promise<{ closed: WebSocketClosed; ended: EventStreamEnded }> {
  const remaining = () => expected.deadline - Date.now();
  const [closed, ended] = await Promise.all([
    within(socket.ended, remaining(), `${expected.what}: the WebSocket's close (${socket.messages.length} messages so far)`),
    within(stream.ended, remaining(), `${expected.what}: the event stream's end (${stream.messages.length} events so far)`),
  ]);
  const seen = `${expected.what}: WebSocket ${describeClose(closed, expected.since)}; event stream ${describeEnd(ended, expected.since)}`;
  expect(closed.code, seen).toBe(expected.code);
  if (expected.reason !== undefined) expect(closed.reason, seen).toBe(expected.reason);
  expect(ended.clean, seen).toBe(true);
  if (expected.notBefore !== undefined) {
    expect(closed.at, `${seen}: closed before fw's long-lived timeout`).toBeGreaterThanOrEqual(expected.notBefore);
    expect(ended.at, `${seen}: ended before fw's long-lived timeout`).toBeGreaterThanOrEqual(expected.notBefore);
  }
  return { closed, ended };
}

/** Waits until none of `pids` is alive, by `deadline` (ms epoch); returns when they were seen gone. */
async function expectGoneBy(pids: number[], deadline: number, what: string): Promise<number> {
  await expect
    .poll(() => pids.filter(isAlive), { timeout: Math.max(0, deadline - Date.now()), interval: 50, message: `${what}: still alive` })
    .toEqual([]);
  return Date.now();
}

/** One line of what a scenario saw, for the test's output: the timings the bounds leave room for. */
function report(what: string, closes: { closed: WebSocketClosed; ended: EventStreamEnded }, since: number, more: Record<string, unknown> = {}): void {
  const fields = Object.entries(more).map(([key, value]) => `${key} ${typeof value === 'string' ? value : JSON.stringify(value)}`);
  console.info(`${what}: WebSocket ${describeClose(closes.closed, since)}; event stream ${describeEnd(closes.ended, since)}${fields.length ? `; ${fields.join('; ')}` : ''}`);
}

describe.each(apps)('$name: $title', (app) => {
  const suite = appSuite(`long-lived-${app.name}`);
  const dir = () => path.join(suite.root, app.name);
  const source = () => path.join(dir(), app.source);

  itIsWrittenAndInstalled(suite, packed, { dir, write: () => app.write(dir()) });

  it(`${['fw start --workers 2', ...app.startFlags].join(' ')}: fw reload closes the WebSocket (${app.codes.reload}) and ends the event stream within ${app.openForMs.start + CLOSE_WITHIN_MS} ms${app.fwCloses ? '' : ', a plain request in flight still answers'}, the old workers are gone within ${OLD_WORKER_GONE_MS / 1000} s, new connections get the new version, ${CONNECTIONS} kept-alive connections fail nothing; fw status counts them; fw stop closes them (${app.codes.stop})`, async () => {
    suite.needInstalled();
    await setVersion(source(), 'v1');
    await build(dir());
    await suite.run(dir(), [...START, ...app.startFlags], async (server) => {
      const clients = clientsOfTest();
      try {
        const firstGeneration = workerPids(server.output()).get(1) ?? [];
        expect(firstGeneration).toHaveLength(2);
        let fresh: { socket: LongLivedClient<WebSocketClosed>; stream: LongLivedClient<EventStreamEnded> } | undefined;
        const stats = await underLoad(
          server.url,
          '/',
          async (load) => {
            await load.waitForVersion('v1', 10_000);
            const socket = clients.webSocket(server);
            const stream = clients.eventStream(server);
            expect((await socket.first).version).toBe('v1');
            expect((await stream.first).version).toBe('v1');
            // A plain request that the app answers only once its close path has run (not for an app that never hears it).
            const slow = app.fwCloses ? undefined : get(`${server.url}/slow`).then((answer) => ({ ...answer, at: Date.now() }));

            await setVersion(source(), 'v2');
            await build(dir());
            const from = server.output().length;
            const reloadStartedAt = Date.now();
            const reloaded = await reload(dir());
            const reloadedAt = Date.now();
            expect(reloaded).toMatch(/generation 2 serving/);
            const bound = app.openForMs.start + CLOSE_WITHIN_MS;
            const closes = await expectClosed(socket, stream, {
              code: app.codes.reload,
              ...(app.reason === undefined ? {} : { reason: app.reason }),
              since: reloadedAt,
              deadline: reloadedAt + bound,
              ...(app.fwCloses ? { notBefore: reloadStartedAt + app.openForMs.start / 2 } : {}),
              what: `fw reload (which took ${reloadedAt - reloadStartedAt} ms)`,
            });
            expect(closes.closed.at, 'closed before the reload').toBeGreaterThanOrEqual(reloadStartedAt);
            if (slow) {
              // In flight as the close path ran, and answered all the same.
              const answered = await slow;
              expect(answered.status, answered.text).toBe(200);
              expect(JSON.parse(answered.text), answered.text).toMatchObject({ version: 'v1', heardClose: true });
              expect(answered.at).toBeGreaterThanOrEqual(reloadStartedAt);
            }

            // New connections reach the new generation.
            fresh = { socket: clients.webSocket(server), stream: clients.eventStream(server) };
            expect((await fresh.socket.first).version).toBe('v2');
            expect((await fresh.stream.first).version).toBe('v2');
            await load.waitForVersion('v2', 10_000);

            // The old workers exit once their connections are closed, not at the graceful timeout.
            const goneAt = await expectGoneBy(firstGeneration, reloadedAt + OLD_WORKER_GONE_MS, 'the workers of generation 1');
            report(`${app.name}: fw reload (${reloadedAt - reloadStartedAt} ms)`, closes, reloadedAt, { 'old workers gone after': `${goneAt - reloadedAt} ms` });
            for (const pid of firstGeneration) {
              const [line] = await server.waitFor(new RegExp(`\\(pid ${pid}, generation 1\\) (exited|killed)[^\\n]*`), 5_000, from);
              expect(line).toMatch(/exited \(code 0\)/);
            }
            // The master says what each drain waited on.
            const [ws] = await server.waitFor(/[^\n]*drained[^\n]*WebSocket[^\n]*/, 5_000, from);
            const [es] = await server.waitFor(/[^\n]*drained[^\n]*event stream[^\n]*/, 5_000, from);
            console.info(`${app.name}: fw reload: the master logged\n${[...new Set([ws, es])].join('\n')}`);
          },
          { connections: CONNECTIONS },
        );
        expectNoneFailed(stats, ['v1', 'v2']);
        if (!fresh) throw new Error('the reload did not run');

        // fw status: the ready workers hold the new WebSocket and event stream, and none drains.
        const serving = await statusUntil(
          dir(),
          (now) => {
            const ready = now.workers.filter((worker) => worker.state === 'ready');
            return ready.length === 2 && sum(ready, 'upgraded') === 1 && sum(ready, 'eventStreams') === 1;
          },
          5_000,
          'two ready workers holding 1 WebSocket and 1 event stream between them',
        );
        for (const worker of serving.workers.filter((each) => each.state === 'ready')) {
          expect(worker, JSON.stringify(worker)).toMatchObject({ generation: 2, drainingSince: null, deadline: null });
        }
        const table = await runFw(dir(), ['status'], 10_000);
        expect(table.exitCode, table.all).toBe(0);
        expect(table.stdout, table.stdout).toContain('long-lived');

        // fw stop: no other worker serves, so a going-away close; the master is gone within the same bound.
        const from = server.output().length;
        const stopStartedAt = Date.now();
        const stopping = runFw(dir(), ['stop'], 40_000);
        const bound = app.openForMs.start + CLOSE_WITHIN_MS;
        const stopCloses = await expectClosed(fresh.socket, fresh.stream, {
          code: app.codes.stop,
          ...(app.reason === undefined ? {} : { reason: app.reason }),
          since: stopStartedAt,
          deadline: stopStartedAt + bound,
          ...(app.fwCloses ? { notBefore: stopStartedAt + app.openForMs.start / 2 } : {}),
          what: 'fw stop',
        });
        const stopped = await stopping;
        const stoppedAt = Date.now();
        expect(stopped.exitCode, stopped.all).toBe(0);
        expect(stoppedAt - stopStartedAt, `fw stop returned after ${stoppedAt - stopStartedAt} ms:\n${stopped.all}`).toBeLessThan(bound);
        const masterGoneAt = await expectGoneBy([server.pid], stoppedAt + 2_000, 'the master');
        report(`${app.name}: fw stop`, stopCloses, stopStartedAt, { 'fw stop returned after': `${stoppedAt - stopStartedAt} ms`, 'master gone after': `${masterGoneAt - stopStartedAt} ms` });
        // The master said what the stop's drains waited on before it exited.
        const [drained] = await server.waitFor(/[^\n]*drained[^\n]*(WebSocket|event stream)[^\n]*/, 3_000, from);
        console.info(`${app.name}: fw stop: the master logged\n${drained}`);
      } finally {
        await clients.closeAll();
      }
    });
  }, 150_000);

  it(`fw dev: a save closes the WebSocket (${app.codes.dev}) and ends the event stream within ${app.openForMs.dev + CLOSE_WITHIN_MS} ms of going live, the old worker is gone within ${OLD_WORKER_GONE_MS / 1000} s, new connections get the save, ${CONNECTIONS} kept-alive connections fail nothing`, async () => {
    suite.needInstalled();
    await setVersion(source(), 'dev-1');
    await suite.run(dir(), DEV, async (dev) => {
      const clients = clientsOfTest();
      try {
        await firstAnswer(`${dev.url}/`, /^200 \{"version":"dev-1"/);
        const stats = await underLoad(
          dev.url,
          '/',
          async (load) => {
            await load.waitForVersion('dev-1', 10_000);
            const socket = clients.webSocket(dev);
            const stream = clients.eventStream(dev);
            const [toSocket, toStream] = [await socket.first, await stream.first];
            expect([toSocket.version, toStream.version]).toEqual(['dev-1', 'dev-1']);

            const savedAt = Date.now();
            await setVersion(source(), 'dev-2');
            const liveAt = await load.waitForVersion('dev-2', 30_000);
            const closes = await expectClosed(socket, stream, {
              code: app.codes.dev,
              ...(app.reason === undefined ? {} : { reason: app.reason }),
              since: liveAt,
              deadline: liveAt + app.openForMs.dev + CLOSE_WITHIN_MS,
              ...(app.fwCloses ? { notBefore: liveAt + app.openForMs.dev / 2 } : {}),
              what: `the save (live ${liveAt - savedAt} ms after it)`,
            });

            const fresh = { socket: clients.webSocket(dev), stream: clients.eventStream(dev) };
            expect((await fresh.socket.first).version).toBe('dev-2');
            expect((await fresh.stream.first).version).toBe('dev-2');
            const goneAt = await expectGoneBy([...new Set([toSocket.pid, toStream.pid])], liveAt + OLD_WORKER_GONE_MS, 'the worker that served dev-1');
            report(`${app.name}: fw dev save (live ${liveAt - savedAt} ms after it)`, closes, liveAt, { 'old worker gone after': `${goneAt - liveAt} ms` });
          },
          { connections: CONNECTIONS },
        );
        expectNoneFailed(stats, ['dev-1', 'dev-2']);
      } finally {
        await clients.closeAll();
      }
    });
  }, 120_000);

  if (!app.fwCloses) return;

  it('with the default long-lived timeout (5 s): fw status shows the draining worker, its open connections and when fw closes them; fw closes them then (1012), and the master says what it waited on', async () => {
    suite.needInstalled();
    await setVersion(source(), 'v1');
    await build(dir());
    // No bake time: fw reload then answers as the old workers begin to drain, so fw status can be
    // asked while they hold their connections (with one, the 5 s bake outlasts the 5 s timeout).
    await suite.run(dir(), [...START, '--bake-time', '0'], async (server) => {
      const clients = clientsOfTest();
      try {
        const firstGeneration = workerPids(server.output()).get(1) ?? [];
        const socket = clients.webSocket(server);
        const stream = clients.eventStream(server);
        expect((await socket.first).version).toBe('v1');
        expect((await stream.first).version).toBe('v1');

        await setVersion(source(), 'v2');
        await build(dir());
        const from = server.output().length;
        const reloadStartedAt = Date.now();
        await reload(dir());
        const reloadedAt = Date.now();

        // Draining, with the connections the app left open.
        const now = await statusUntil(
          dir(),
          (answer) => {
            const draining = answer.workers.filter((worker) => worker.state === 'draining');
            return sum(draining, 'upgraded') === 1 && sum(draining, 'eventStreams') === 1 && draining.every((worker) => typeof worker.stats?.longLivedCloseAt === 'number');
          },
          3_000,
          'the draining workers of generation 1 holding 1 WebSocket and 1 event stream, with the time fw closes them',
        );
        const draining = now.workers.filter((worker) => worker.state === 'draining' && (worker.stats?.upgraded ?? 0) + (worker.stats?.eventStreams ?? 0) > 0);
        expect(draining.length).toBeGreaterThan(0);
        for (const worker of draining) {
          const seen = JSON.stringify(worker);
          expect(worker.generation, seen).toBe(1);
          expect(firstGeneration, seen).toContain(worker.pid);
          expect(worker.drainingSince, seen).toBeTypeOf('number');
          const since = worker.drainingSince!;
          expect(since, seen).toBeGreaterThanOrEqual(reloadStartedAt - 100);
          expect(since, seen).toBeLessThanOrEqual(reloadedAt + 1_000);
          expect(worker.stats!.longLivedCloseAt! - since, `${seen}: fw closes them 5 s after the drain starts`).toBeGreaterThanOrEqual(4_900);
          expect(worker.stats!.longLivedCloseAt! - since, `${seen}: fw closes them 5 s after the drain starts`).toBeLessThanOrEqual(5_100);
          expect(worker.deadline, seen).toMatchObject({ at: expect.any(Number), reason: expect.any(String) });
          expect(worker.deadline!.at, seen).toBeGreaterThan(since);
        }
        const table = await runFw(dir(), ['status'], 10_000);
        expect(table.exitCode, table.all).toBe(0);
        expect(table.stdout).toContain('long-lived');
        for (const worker of draining) {
          // e.g. `worker 1 (pid 7096) draining for 1s: 1 upgraded open; fw closes them in 4s; …`
          const line = table.stdout.match(new RegExp(`^[ \\t]*worker \\d+ \\(pid ${worker.pid}\\) draining[^\\n]*`, 'm'));
          expect(line, table.stdout).not.toBeNull();
          expect(line![0], table.stdout).toMatch(/WebSocket|upgraded|event stream/);
          expect(line![0], `${table.stdout}\nno time for fw's close`).toMatch(/close[^\n]*\d+(\.\d+)? ?s\b/);
        }

        // fw closes them at 5 s: a restart close, a complete event stream; then the workers exit.
        const closes = await expectClosed(socket, stream, {
          code: 1012,
          since: reloadedAt,
          deadline: reloadedAt + 5_000 + CLOSE_WITHIN_MS,
          notBefore: reloadStartedAt + 4_500,
          what: 'fw reload with the default long-lived timeout',
        });
        const goneAt = await expectGoneBy(firstGeneration, reloadedAt + 5_000 + OLD_WORKER_GONE_MS, 'the workers of generation 1');
        report(`${app.name}: fw reload, default long-lived timeout`, closes, reloadedAt, { 'old workers gone after': `${goneAt - reloadedAt} ms`, status: draining });
        const [ws] = await server.waitFor(/[^\n]*drained[^\n]*WebSocket[^\n]*/, 5_000, from);
        const [es] = await server.waitFor(/[^\n]*drained[^\n]*event stream[^\n]*/, 5_000, from);
        console.info(`${app.name}: fw reload, default long-lived timeout: the master logged\n${[...new Set([ws, es])].join('\n')}`);
      } finally {
        await clients.closeAll();
      }
    });
  }, 120_000);
});
