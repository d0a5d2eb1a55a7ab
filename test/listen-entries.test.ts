import { readFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { workerPids } from './helpers/fw-process.js';
import {
  frameworkApps,
  nestShapes,
  nestShutdownHooks,
  plainServers,
  versionLine,
  writeExpressApp,
  writeNestApp,
  writePlainApp,
} from './helpers/listen-apps.js';
import { answerOf, edit, firstAnswer, get, type RunningFw, runFw, SERVING } from './helpers/written-apps.js';
import {
  appSuite,
  build,
  DEV,
  expectNoneFailed,
  goesLive,
  itIsWrittenAndInstalled,
  itRollsOut,
  packedFw,
  reload,
  rollOut,
  START,
  underLoad,
} from './helpers/written-suite.js';

/**
 * Entries that call `listen` themselves, as Express, Koa, Hono, Fastify and Nest apps are written
 * (`app.listen(PORT)`, `serve()`, `await app.listen()`, `bootstrap()`), each in a folder of its own
 * outside the repository with fw installed from the packed tarballs, run unchanged by the installed
 * fw: in a worker, `listen` binds nothing and fw serves that server on the master's sockets (PORT
 * and HOST in the worker are what fw bound); the app's `server.close()` is fw's drain; once
 * drained, the app's own SIGTERM handler runs. An entry that never listens, or listens twice, is
 * refused with an error that says so, and a reload to one keeps the old version serving.
 */

/** Kept-alive connections that never retry, during the reloads of the Express app. */
const CONNECTIONS = 12;

const packed = packedFw('fw-listen-packs-');

const portOf = (fw: RunningFw) => new URL(fw.url).port;

/** Worker pids of `generation`, as the master reported them up (empty if it did not). */
const pidsOf = (fw: RunningFw, generation: number) => workerPids(fw.output()).get(generation) ?? [];

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** A port nothing listens on now: where a failed fw start must leave nothing serving. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * A GET on the one kept-alive connection of `agent` (made with `maxSockets: 1`): the answer, its
 * `Connection` header, and whether it went on the connection of the GET before (a connection
 * the server had closed would be replaced by a new one). Rejects after 10 s.
 */
function keptAliveGet(agent: http.Agent, url: string): Promise<{ status: number; text: string; connection: string | undefined; reused: boolean }> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { agent, timeout: 10_000 }, (response) => {
      let text = '';
      response.setEncoding('utf8').on('data', (chunk: string) => {
        text += chunk;
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text, connection: response.headers.connection, reused: request.reusedSocket }));
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error(`GET ${url}: no answer within 10 s`)));
    request.on('error', reject);
  });
}

/**
 * Waits (bounded) for the line that says how each old worker ended, after `from` in the output:
 * it must have exited by itself (`ended`, by default with code 0), never been killed at the drain
 * timeout.
 */
async function oldWorkersEnded(fw: RunningFw, pids: number[], from: number, ended = /exited \(code 0\)$/): Promise<void> {
  for (const pid of pids) {
    const [line] = await fw.waitFor(new RegExp(`\\(pid ${pid}, generation \\d+\\) (exited|killed)[^\\n]*\\n`), 20_000, from);
    expect(line.trim()).toMatch(ended);
  }
}

/** A worker whose app ended itself by re-raising SIGTERM (Nest's shutdown hooks) exits of that signal, or with code 0 where fw's handler took it. */
const EXITED_OR_SIGTERM = /exited \((code 0|signal SIGTERM)\)$/;

describe('Express 5: an ES module src/server.ts that calls app.listen(PORT) and, on SIGTERM, server.close(() => process.exit(0))', () => {
  const suite = appSuite('listen-express');
  const dir = () => path.join(suite.root, 'express-app');
  const serverFile = () => path.join(dir(), 'src', 'server.ts');

  itIsWrittenAndInstalled(suite, packed, { dir, write: () => writeExpressApp(dir()) });

  it(`fw start --entry src/server.ts --workers 2 serves it on fw's port; 3 × (edit + fw build + fw reload) under ${CONNECTIONS} kept-alive connections fail no request, and each old worker runs the app's SIGTERM handler`, async () => {
    suite.needInstalled();
    // No build yet: fw start builds the entry it is given. No bake time: the connection kept idle
    // through each reload must still be open when fw reload answers (Node closes it after 5 s idle).
    await suite.run(dir(), ['start', '--entry', 'src/server.ts', '--port', '0', '--workers', '2', '--bake-time', '0'], async (server) => {
      expect(server.output()).toMatch(/no build yet: built src[/\\]server\.ts/);
      const port = portOf(server);
      // The app's own listen callback ran, with the port fw bound, in each worker.
      const listening = `express v1 listening on port ${port}`;
      await server.waitFor(new RegExp(`${escapeRegExp(listening)}[\\s\\S]*${escapeRegExp(listening)}`), 10_000);
      expect(JSON.parse((await get(`${server.url}/`)).text)).toEqual({ hello: 'express', version: 'v1' });
      const env = await get(`${server.url}/env`);
      expect(env.status, env.text).toBe(200);
      expect(JSON.parse(env.text)).toEqual({ PORT: port, HOST: '127.0.0.1', port: Number(port) });

      const stats = await underLoad(
        server.url,
        '/',
        async (load) => {
          await load.waitForVersion('v1', 10_000);
          for (let generation = 2; generation <= 4; generation++) {
            const previous = `v${generation - 1}`;
            const next = `v${generation}`;
            await edit(serverFile(), versionLine(previous), versionLine(next));
            await build(dir(), ['--entry', 'src/server.ts']);
            expect(JSON.parse((await get(`${server.url}/`)).text).version, 'a build alone changed what runs').toBe(previous);
            // A kept-alive connection that sits idle through the reload.
            const idle = new http.Agent({ keepAlive: true, maxSockets: 1 });
            const from = server.output().length;
            try {
              const before = await keptAliveGet(idle, `${server.url}/`);
              expect(JSON.parse(before.text).version).toBe(previous);
              const reloaded = await reload(dir());
              expect(reloaded).toMatch(new RegExp(`generation ${generation} serving`));
              expect(JSON.parse((await get(`${server.url}/`)).text).version).toBe(next);
              await load.waitForVersion(next, 10_000);
              // Not reset by the drain (nor by the app's server.close(), nor by its SIGTERM handler): the old
              // worker passes its next request on to the new generation, and closes the connection after it.
              const after = await keptAliveGet(idle, `${server.url}/`);
              expect(after, JSON.stringify(after)).toMatchObject({ status: 200, connection: 'close', reused: true });
              expect(JSON.parse(after.text).version).toBe(next);
            } finally {
              idle.destroy();
            }
            // Drained, each old worker heard SIGTERM in the app's own handler, whose close() ended and exit(0) followed.
            const old = pidsOf(server, generation - 1);
            expect(old).toHaveLength(2);
            for (const pid of old) await server.waitFor(new RegExp(`express ${previous} \\(pid ${pid}\\): closed`), 20_000, from);
            await oldWorkersEnded(server, old, from);
          }
        },
        { connections: CONNECTIONS },
      );
      expectNoneFailed(stats, ['v1', 'v2', 'v3', 'v4']);
      expect(stats.connectionsOpened, JSON.stringify(stats)).toBeGreaterThanOrEqual(CONNECTIONS);
    });
  }, 180_000);

  it("fw dev serves it (PORT and HOST are fw dev's); an edit goes live", async () => {
    suite.needInstalled();
    await writeFile(serverFile(), (await readFile(serverFile(), 'utf8')).replace(/const VERSION = '[^']*';/, versionLine('dev-1')));
    await suite.run(dir(), DEV, async (dev) => {
      await firstAnswer(`${dev.url}/`, '200 {"hello":"express","version":"dev-1"}');
      expect(await answerOf(`${dev.url}/env`)).toBe(`200 {"PORT":"${portOf(dev)}","HOST":"127.0.0.1","port":${portOf(dev)}}`);
      await goesLive(dev, '/', () => edit(serverFile(), versionLine('dev-1'), versionLine('dev-2')), '200 {"hello":"express","version":"dev-2"}');
    });
  }, 180_000);
});

describe.each(frameworkApps)('$name: $entry listens itself, found without --entry', (app) => {
  const suite = appSuite(`listen-${app.name}`);
  const dir = () => path.join(suite.root, `${app.name}-app`);

  const answer = (version: string) => `200 ${JSON.stringify({ hello: app.name, version })}`;

  itIsWrittenAndInstalled(suite, packed, { dir, write: () => app.write(dir()) });

  itRollsOut(suite, "fw build + fw start serve it on fw's port; an edit goes live by fw build + fw reload, failing no kept-alive request", {
    dir,
    built: `built ${app.entry.replace('/', path.sep)}`,
    serving: async (server) => {
      await server.waitFor(new RegExp(escapeRegExp(app.listening(portOf(server)))), 10_000);
    },
    load: { versions: ['v1', 'v2'] },
    edit: { path: '/', change: () => edit(path.join(dir(), app.entry), versionLine('v1'), versionLine('v2')), before: answer('v1'), after: answer('v2') },
  });
});

describe.each(nestShapes)('the app `nest new` makes ($generator: $shape), Nest as it is installed', ({ shape, generator, hello }) => {
  const suite = appSuite(`listen-nest-${shape}`);
  const dir = () => path.join(suite.root, `nest-${shape}-app`);
  const mainFile = () => path.join(dir(), 'src', 'main.ts');
  const serviceFile = () => path.join(dir(), 'src', 'app.service.ts');
  const answers = (text: string) => `return '${text}';`;

  itIsWrittenAndInstalled(suite, packed, {
    title: `is written as ${generator} new writes it and installed with fw from the tarballs`,
    dir,
    write: async () => {
      await writeNestApp(dir(), shape);
      const manifest = JSON.parse(await readFile(path.join(dir(), 'package.json'), 'utf8'));
      expect(manifest.type).toBe(shape === 'esm' ? 'module' : undefined);
    },
  });

  it("fw build + fw start (entry src/main.ts) answer with the injected service's value; edits go live by fw build + fw reload under load, and with enableShutdownHooks the old workers' onApplicationShutdown runs", async () => {
    suite.needInstalled();
    expect(await build(dir())).toContain(`built ${path.join('src', 'main.ts')}`);
    await suite.run(dir(), START, async (server) => {
      // The controller's constructor got AppService by its type alone (decorator metadata).
      expect(await get(`${server.url}/`)).toMatchObject({ status: 200, text: hello });

      const stats = await underLoad(
        server.url,
        '/',
        async (load) => {
          await load.waitForVersion(hello, 10_000);
          // Generation 2: a new answer, and Nest's shutdown hooks on.
          const shutdownHooksOn = async () => {
            await edit(serviceFile(), answers(hello), answers('Hello from v2!'));
            await edit(serviceFile(), nestShutdownHooks.serviceImport.from, nestShutdownHooks.serviceImport.to);
            await edit(serviceFile(), nestShutdownHooks.service.from, nestShutdownHooks.service.to);
            await edit(mainFile(), nestShutdownHooks.main.from, nestShutdownHooks.main.to);
          };
          await rollOut(server, dir(), { path: '/', change: shutdownHooksOn, before: `200 ${hello}`, after: '200 Hello from v2!' });
          await load.waitForVersion('Hello from v2!', 10_000);
          const firstGeneration = pidsOf(server, 1);
          expect(firstGeneration).toHaveLength(2);
          await oldWorkersEnded(server, firstGeneration, 0);

          // Generation 3: generation 2 drains, then hears SIGTERM through Nest's hooks; its lines are
          // looked for from here on (nothing of generation 2 stops before the reload).
          const from = server.output().length;
          const nextAnswer = () => edit(serviceFile(), answers('Hello from v2!'), answers('Hello from v3!'));
          await rollOut(server, dir(), { path: '/', change: nextAnswer, before: '200 Hello from v2!', after: '200 Hello from v3!' });
          await load.waitForVersion('Hello from v3!', 10_000);
          const secondGeneration = pidsOf(server, 2);
          expect(secondGeneration).toHaveLength(2);
          for (const pid of secondGeneration) {
            await server.waitFor(new RegExp(`AppService \\(Hello from v2!\\) shut down on SIGTERM \\(pid ${pid}\\)`), 20_000, from);
          }
          await oldWorkersEnded(server, secondGeneration, from, EXITED_OR_SIGTERM);
        },
        { version: (body) => body },
      );
      expectNoneFailed(stats, [hello, 'Hello from v2!', 'Hello from v3!']);
    });
  }, 180_000);

  it('fw dev serves it; an edit of the service goes live', async () => {
    suite.needInstalled();
    await writeFile(serviceFile(), (await readFile(serviceFile(), 'utf8')).replace(/return '[^']*';/, answers(hello)));
    await suite.run(dir(), DEV, async (dev) => {
      await firstAnswer(`${dev.url}/`, `200 ${hello}`);
      await goesLive(dev, '/', () => edit(serviceFile(), answers(hello), answers('Hello from fw dev!')), '200 Hello from fw dev!');
    });
  }, 180_000);
});

describe('node:http entries (an ES module app): one that never listens or listens twice is refused; one that re-raises SIGTERM ends on it; CommonJS ones are served', () => {
  const suite = appSuite('listen-refused');
  const dir = () => path.join(suite.root, 'plain-app');
  const serverFile = () => path.join(dir(), 'src', 'server.ts');

  /** Builds `source` (version v1) as src/server.ts and runs `body` with fw start (START and `args`) serving it. */
  async function serveV1(source: string, args: string[], body: (server: RunningFw) => Promise<void>): Promise<void> {
    await writeFile(serverFile(), source);
    await build(dir());
    await suite.run(dir(), [...START, ...args], async (server) => {
      expect(JSON.parse((await get(`${server.url}/`)).text)).toEqual({ version: 'v1' });
      await body(server);
    });
  }

  // Each test writes the src/server.ts it is about: there is no one app to type-check.
  itIsWrittenAndInstalled(suite, packed, { dir, write: () => writePlainApp(dir()), typecheck: false });

  it('fw start --boot-timeout 3 on a src/server.ts that never listens fails: non-zero exit, "did not call listen()", nothing serving', async () => {
    suite.needInstalled();
    await writeFile(serverFile(), plainServers.neverListens);
    await build(dir());
    const port = await freePort();
    const startedAt = Date.now();
    const started = await runFw(dir(), ['start', '--port', String(port), '--boot-timeout', '3'], 30_000);
    expect(started.exitCode, started.all).not.toBe(0);
    expect(started.all).toContain('did not call listen()');
    expect(started.all).toContain('server.ts: started; it never listens');
    expect(started.all).not.toMatch(SERVING);
    // Told within the boot timeout (less a second), not at fw's default of 30 s.
    expect(Date.now() - startedAt).toBeLessThan(20_000);
    expect(await answerOf(`http://127.0.0.1:${port}/`)).toMatch(/^no answer: .*ECONNREFUSED/);
  }, 60_000);

  it('fw start on a src/server.ts that listens on two servers fails: "listens on 2 servers"', async () => {
    suite.needInstalled();
    await writeFile(serverFile(), plainServers.listensTwice);
    await build(dir());
    const port = await freePort();
    const started = await runFw(dir(), ['start', '--port', String(port), '--boot-timeout', '3'], 30_000);
    expect(started.exitCode, started.all).not.toBe(0);
    expect(started.all).toContain('listens on 2 servers');
    expect(started.all).not.toMatch(SERVING);
    expect(await answerOf(`http://127.0.0.1:${port}/`)).toMatch(/^no answer: .*ECONNREFUSED/);
  }, 60_000);

  it('fw reload of a build whose src/server.ts never listens exits non-zero, and the running version keeps answering every request', async () => {
    suite.needInstalled();
    await serveV1(plainServers.good('v1'), ['--boot-timeout', '3'], async (server) => {
      const serving = pidsOf(server, 1);
      const stats = await underLoad(server.url, '/', async (load) => {
        await load.waitForVersion('v1', 10_000);
        await writeFile(serverFile(), plainServers.neverListens);
        await build(dir());
        const refused = await runFw(dir(), ['reload'], 30_000);
        expect(refused.exitCode, refused.all).not.toBe(0);
        expect(refused.all).toContain('did not call listen()');
        await server.waitFor(/generation 2 refused/, 10_000);
        expect(JSON.parse((await get(`${server.url}/`)).text)).toEqual({ version: 'v1' });
        expect(pidsOf(server, 1)).toEqual(serving);

        // The next good build rolls out.
        const good = () => writeFile(serverFile(), plainServers.good('v3'));
        await rollOut(server, dir(), { path: '/', change: good, before: '200 {"version":"v1"}', after: '200 {"version":"v3"}' });
        await load.waitForVersion('v3', 10_000);
      });
      expectNoneFailed(stats, ['v1', 'v3']);
      expect(Object.keys(stats.versions).sort()).toEqual(['v1', 'v3']);
    });
  }, 120_000);

  it("an app whose SIGTERM handler cleans up, then re-raises the signal (as Nest's shutdown hooks do), ends on it when a reload drains it, though a timer it left would keep it alive", async () => {
    suite.needInstalled();
    await serveV1(plainServers.reraisesSigterm('v1'), ['--graceful-timeout', '5'], async (server) => {
      const old = pidsOf(server, 1);
      expect(old).toHaveLength(2);
      const from = server.output().length;
      const v2 = () => writeFile(serverFile(), plainServers.reraisesSigterm('v2'));
      await rollOut(server, dir(), { path: '/', change: v2, before: '200 {"version":"v1"}', after: '200 {"version":"v2"}' });
      for (const pid of old) await server.waitFor(new RegExp(`v1 \\(pid ${pid}\\): SIGTERM, closing, then re-raising it`), 10_000, from);
      // Run by node alone, the re-raised SIGTERM ends the process at once; under fw it must too,
      // not the SIGKILL at the drain timeout.
      await oldWorkersEnded(server, old, from, EXITED_OR_SIGTERM);
    });
  }, 120_000);

  it.each([
    { when: 'as it loads', like: 'a CommonJS Express server.js', source: plainServers.commonJsListensAtOnce, version: 'cjs-at-once' },
    { when: 'after an await', like: 'the main.ts of nest new (CommonJS)', source: plainServers.commonJsListensLate, version: 'cjs-late' },
  ])('a CommonJS entry (src/server.cts) that exports nothing and listens $when, like $like, is served', async ({ source, version }) => {
    suite.needInstalled();
    await writeFile(path.join(dir(), 'src', 'server.cts'), source);
    await build(dir(), ['--entry', 'src/server.cts']);
    await suite.run(dir(), START, async (server) => {
      expect(JSON.parse((await get(`${server.url}/`)).text)).toEqual({ version });
    });
  }, 120_000);
});
