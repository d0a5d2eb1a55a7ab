/**
 * The master's control socket under random and malformed input: random bytes, random JSON,
 * commands with fields of the wrong type, oversized lines, lines never ended, connections dropped
 * half-way, many at once. The master answers an error or closes the connection, and never crashes,
 * stops or reloads because of it: afterwards `fw status` answers, the generation is the same, and
 * `fw stop` still works.
 */
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AppFixture, copyExampleApp } from '../helpers/app-fixture.js';
import { fw, type RunningMaster, startMaster } from '../helpers/fw-process.js';

const ROUNDS = 400;

let app: AppFixture;
let master: RunningMaster;
let socketPath: string;

beforeAll(async () => {
  app = await copyExampleApp('control-fuzz');
  expect((await fw(['build', app.dir])).exitCode).toBe(0);
  master = await startMaster(app.dir, ['--workers', '1']);
  socketPath = path.join(app.dir, '.fw', 'control.sock');
});

afterAll(async () => {
  await master?.kill();
  await app?.remove();
});

/** A small seeded generator (mulberry32): a failing round can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One malformed message: never a valid command (a valid stop or reload would be obeyed). */
function malformed(next: () => number): { bytes: Buffer; end: 'newline' | 'none' | 'drop' } {
  const pick = <T>(items: T[]): T => items[Math.floor(next() * items.length)]!;
  const junk = (length: number) => Buffer.from(Array.from({ length }, () => Math.floor(next() * 256)));
  const kind = Math.floor(next() * 8);
  const shapes: (() => string | Buffer)[] = [
    () => junk(1 + Math.floor(next() * 512)),
    () => JSON.stringify(pick([null, 1, 'stop', [], [{ command: 'stop' }], true, { command: null }, {}])),
    () => JSON.stringify({ command: pick(['stop', 'reload', 'status', 'upgrade']), force: pick(['yes', 1, null, {}, []]) }),
    () => JSON.stringify({ command: pick(['STOP', 'shutdown', 'reload ', '', 'status\n', '__proto__']), extra: next() }),
    () => JSON.stringify({ command: 'reload', ['__proto__']: { polluted: true } }).replace('"command"', '"__proto__":{"command":"stop"},"command"'),
    () => '{'.repeat(1 + Math.floor(next() * 5_000)),
    () => `{"command":"status"${' '.repeat(Math.floor(next() * 70_000))}}`,
    () => `${'x'.repeat(Math.floor(next() * 200_000))}`,
  ];
  const bytes = shapes[kind]!();
  return { bytes: Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes), end: pick(['newline', 'newline', 'none', 'drop']) };
}

/** Sends one message; resolves with what came back (or '' when the master closed), bounded. */
function send(message: { bytes: Buffer; end: 'newline' | 'none' | 'drop' }): Promise<string> {
  return new Promise((resolve, reject) => {
    const connection = net.connect(socketPath);
    let answer = '';
    const timer = setTimeout(() => {
      connection.destroy();
      // An unended line is the only message the master may simply wait on.
      if (message.end === 'none') resolve('');
      else reject(new Error(`no answer and no close within 5 s for a ${message.bytes.length}-byte message`));
    }, message.end === 'none' ? 300 : 5_000);
    connection.setEncoding('utf8');
    connection.on('data', (chunk: string) => (answer += chunk));
    connection.on('error', () => undefined);
    connection.on('close', () => {
      clearTimeout(timer);
      resolve(answer);
    });
    connection.write(message.end === 'newline' ? Buffer.concat([message.bytes, Buffer.from('\n')]) : message.bytes, () => {
      if (message.end === 'drop') connection.destroy();
    });
  });
}

describe('the control socket under malformed input', () => {
  it(`answers ${ROUNDS} random and malformed messages with an error or a close, and keeps serving`, async () => {
    const next = random(20261201);
    const before = JSON.parse((await fw(['status', app.dir, '--json'])).stdout) as { generation: number; pid: number };
    let answered = 0;
    for (let round = 0; round < ROUNDS; round += 8) {
      const batch = Array.from({ length: 8 }, () => malformed(next));
      const answers = await Promise.all(batch.map(send));
      for (const text of answers) {
        if (text === '') continue;
        answered++;
        const response = JSON.parse(text) as { ok: boolean; command: string };
        // A status request with padding is still a status request; anything else is refused.
        if (response.command !== 'status') expect(response).toMatchObject({ ok: false, command: 'error' });
      }
    }
    expect(answered).toBeGreaterThan(ROUNDS / 4);
    const after = JSON.parse((await fw(['status', app.dir, '--json'])).stdout) as { generation: number; pid: number };
    expect(after).toMatchObject({ generation: before.generation, pid: before.pid });
    expect(master.output()).not.toMatch(/reload requested|stopping/);
    expect((await fetch(`${master.url}/`)).status).toBe(200);
    const stopped = await fw(['stop', app.dir]);
    expect(stopped.exitCode, stopped.all).toBe(0);
    await expect(master.exited(20_000)).resolves.toBe(0);
  }, 120_000);
});
