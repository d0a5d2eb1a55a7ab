import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { copyExampleApp, type AppFixture } from './helpers/app-fixture.js';
import { startDev, startMaster, type RunningMaster } from './helpers/fw-process.js';

/** Routes that log an error, print other lines, and crash the worker after its last words. */
const extraRoutes = `
  app.get('/fail', async () => {
    throw new Error('deliberate failure in a route');
  });
  app.get('/crash', async (request) => {
    request.log.info('last words before the crash');
    console.log('a console.log line, as it is');
    process.stderr.write('an stderr line, as it is\\n');
    setTimeout(() => {
      process.stdout.write(JSON.stringify({ level: 30, time: Date.now(), pid: process.pid, msg: 'a last record, no newline' }));
      process.exit(7);
    }, 50);
    return { crashing: true };
  });
`;

async function addRoutes(app: AppFixture): Promise<void> {
  const appFile = path.join(app.dir, 'src', 'app.ts');
  const source = await readFile(appFile, 'utf8');
  await writeFile(appFile, source.replace('  await app.register(blockRoutes);\n', `  await app.register(blockRoutes);\n${extraRoutes}`));
}

/** Fastify's request line, as pino writes it: one JSON object. */
const rawRequestLine = /^\{"level":30,"time":\d+,"pid":\d+,[^\n]*"msg":"incoming request"\}$/m;
/** The same, as pino-pretty shows it (no colour: the output is a pipe here). */
const readableRequestLine = /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO \((\d+)\): incoming request \{"reqId":"[^"]+","req":\{"method":"GET","url":"\/hello\/logs"[^\n]*\}\}$/m;

describe('what fw dev and fw start show of the app’s logs', () => {
  let app: AppFixture | undefined;
  let running: RunningMaster | undefined;

  afterEach(async () => {
    await running?.kill();
    await app?.remove();
    running = undefined;
    app = undefined;
  });

  it('fw dev shows each pino line readable, an error in full, and every other line as it came, even from a worker that exits', async () => {
    app = await copyExampleApp('dev-logs');
    await addRoutes(app);
    // --debug: fw dev also prints the lifecycle, so the crash's place among the lines shows.
    running = await startDev(app.dir, ['--debug'], { LOG_LEVEL: 'info' });
    const dev = running;

    expect((await fetch(`${dev.url}/hello/logs`)).status).toBe(200);
    const [request] = await dev.waitFor(readableRequestLine, 10_000);
    await dev.waitFor(/INFO \(\d+\): request completed \{"reqId":"[^"]+","res":\{"statusCode":200\},"responseTime":[\d.]+\}\n/, 10_000);
    expect(dev.output()).not.toMatch(/\{"level":\d+/);
    expect(request).not.toContain('"hostname"');

    let mark = dev.output().length;
    expect((await fetch(`${dev.url}/fail`)).status).toBe(500);
    const [failure] = await dev.waitFor(/ERROR \(\d+\): deliberate failure in a route [^\n]*\n[\s\S]*?\n {4}\}\n/, 10_000, mark);
    expect(failure).toContain('"statusCode":500');
    expect(failure).toMatch(/"message": "deliberate failure in a route"/);
    // The stack in full, mapped to the app's own source.
    expect(failure).toMatch(/Error: deliberate failure in a route\n\s+at .*src\/app\.ts:\d+:\d+/);

    mark = dev.output().length;
    expect((await fetch(`${dev.url}/crash`)).status).toBe(200);
    await dev.waitFor(/INFO \(\d+\): last words before the crash[\s\S]*INFO \(\d+\): a last record, no newline\n[\s\S]*crashed \(code 7\)/, 10_000, mark);
    // Each line on its own, as it came (pino writes asynchronously, so its line may come after
    // the console.log line that followed it in the code, as it does without fw); the worker's last
    // record, written just before it exits and without a newline, is not lost, and comes before
    // what fw dev says about the exit.
    // stderr is a pipe of its own: on a loaded machine its line may come after fw's line about
    // the exit (fw waits up to 500 ms for the worker's pipes to close), so it is awaited.
    await dev.waitFor(/^an stderr line, as it is$/m, 10_000, mark);
    const crash = dev.output().slice(mark);
    expect(crash).toMatch(/^a console\.log line, as it is$/m);
    expect(crash).toMatch(/^\[[\d:.]+\] INFO \(\d+\): a last record, no newline$/m);

    // A save: the reload line, and the new worker's lines are readable too.
    mark = dev.output().length;
    await app.setVersion('v2');
    await dev.waitFor(/reloaded in \d+ ms/, 15_000, mark);
    expect((await fetch(`${dev.url}/hello/logs`)).status).toBe(200);
    await dev.waitFor(readableRequestLine, 10_000, mark);
    expect(dev.output()).not.toMatch(/\{"level":\d+/);
  });

  it('fw start keeps the JSON lines as pino writes them', async () => {
    app = await copyExampleApp('start-logs');
    running = await startMaster(app.dir, ['--workers', '1'], { LOG_LEVEL: 'info' });
    expect((await fetch(`${running.url}/hello/logs`)).status).toBe(200);
    const [line] = await running.waitFor(rawRequestLine, 10_000);
    const record = JSON.parse(line) as { req: { url: string }; hostname: string };
    expect(record.req.url).toBe('/hello/logs');
    expect(typeof record.hostname).toBe('string');
    expect(running.output()).not.toMatch(/INFO \(\d+\): incoming request/);
  });
});
