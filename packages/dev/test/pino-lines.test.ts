import { beforeAll, describe, expect, it } from 'vitest';
import { type FormatRecord, PinoLines, prettyFormatter } from '../src/pino-lines.js';

/** What a worker's stream becomes after PinoLines, fed in these chunks. */
async function through(chunks: (string | Buffer)[], format: FormatRecord | Promise<FormatRecord | undefined>): Promise<Buffer> {
  const lines = new PinoLines(format);
  const out: Buffer[] = [];
  lines.on('data', (piece: Buffer) => out.push(piece));
  const ended = new Promise((resolve) => lines.once('end', resolve));
  // Each write is one chunk, as a pipe's reads are.
  for (const chunk of chunks) lines.write(Buffer.from(chunk));
  lines.end();
  await ended;
  return Buffer.concat(out);
}

const time = Date.UTC(2026, 10, 30, 12, 4, 31, 118);
const request = JSON.stringify({
  level: 30,
  time,
  pid: 8421,
  hostname: 'box',
  reqId: 'req-1',
  req: { method: 'GET', url: '/hello?name=fw', host: '127.0.0.1:3000', remoteAddress: '127.0.0.1', remotePort: 50312 },
  msg: 'incoming request',
});
const failure = new Error('cannot reach the database');
const errorLine = JSON.stringify({
  level: 50,
  time,
  pid: 8421,
  hostname: 'box',
  reqId: 'req-2',
  req: { method: 'GET', url: '/orders' },
  res: { statusCode: 500 },
  err: { type: 'Error', message: failure.message, stack: failure.stack },
  msg: failure.message,
});
const ESC = '\u001b[';

describe('PinoLines', () => {
  let plain: FormatRecord;
  let coloured: FormatRecord;
  beforeAll(async () => {
    plain = await prettyFormatter({ colour: false });
    coloured = await prettyFormatter({ colour: true });
  });

  it('makes a pino JSON line one readable line with its level, message and request fields', async () => {
    const text = (await through([`${request}\n`], plain)).toString();
    expect(text.endsWith('\n')).toBe(true);
    expect(text.trimEnd().split('\n')).toHaveLength(1);
    expect(text).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO \(8421\): incoming request /);
    expect(text).toContain('"reqId":"req-1"');
    expect(text).toContain('"method":"GET"');
    expect(text).toContain('"url":"/hello?name=fw"');
    expect(text).not.toContain('"level"');
    expect(text).not.toContain('box');
    expect(text).not.toContain(ESC);
  });

  it('shows an error in full: its message and every line of its stack', async () => {
    const text = (await through([`${errorLine}\n`], plain)).toString();
    expect(text).toMatch(/^\[[\d:.]+\] ERROR \(8421\): cannot reach the database /);
    expect(text).toContain('"statusCode":500');
    for (const line of failure.stack!.split('\n')) expect(text).toContain(line.trim());
  });

  it('colours only when asked to (at a terminal)', async () => {
    const text = (await through([`${request}\n`], coloured)).toString();
    expect(text).toContain(`${ESC}32mINFO${ESC}39m`);
    expect(text).toContain('incoming request');
  });

  it('passes every other line through byte for byte, in order, around the records', async () => {
    // null: a record, which becomes a readable line; every other piece must come out as it went in.
    const pieces: (string | null)[] = [
      'console.log output\n',
      null,
      '{ not: "json" }\n',
      '{"level":"info","message":"not pino: a string level"}\n',
      '{"time":1,"msg":"not pino: no level"}\n',
      '[1, 2, 3]\n',
      '\n',
      'ünïcödé ✓ and a tab\there\r\n',
      'Error: boom\n    at createApp (file:///app/src/app.ts:3:9)\n    at async AppWorker.boot (node:internal)\n',
      null,
      'last line, no newline',
    ];
    const input = pieces.map((piece) => piece ?? `${request}\n`).join('');
    const outputLines = (await through([input], plain)).toString().split(/(?<=\n)/);
    const expectedLines = pieces.flatMap((piece) => (piece === null ? [null] : piece.split(/(?<=\n)/)));
    expect(outputLines).toHaveLength(expectedLines.length);
    expectedLines.forEach((line, index) => {
      if (line === null) expect(outputLines[index]).toMatch(/ INFO \(8421\): incoming request /);
      else expect(outputLines[index]).toBe(line);
    });
  });

  it('passes bytes that are not text through unchanged', async () => {
    const bytes = Buffer.from([0xff, 0xfe, 0x00, 0x0a, 0x7b, 0xc3, 0x0a, 0xe2, 0x82]);
    expect(await through([bytes], plain)).toEqual(bytes);
  });

  it('puts a record split across chunks, even inside a character, back together', async () => {
    const record = JSON.stringify({ level: 30, time, pid: 1, msg: 'héllo wörld ✓' });
    const bytes = Buffer.from(`plain start ${'x'.repeat(10)}\n${record}\ntail\n`);
    // Every split point, one byte at a time included.
    const oneByOne = (await through([...bytes].map((byte) => Buffer.from([byte])), plain)).toString();
    expect(oneByOne).toMatch(/^plain start x{10}\n\[[\d:.]+\] INFO \(1\): héllo wörld ✓\ntail\n$/);
    for (let cut = 1; cut < bytes.length; cut++) {
      const text = (await through([bytes.subarray(0, cut), bytes.subarray(cut)], plain)).toString();
      expect(text).toBe(oneByOne);
    }
  });

  it('passes a line that is not a record on at once, before its newline arrives', async () => {
    const lines = new PinoLines(plain);
    const seen: string[] = [];
    lines.on('data', (piece: Buffer) => seen.push(piece.toString()));
    lines.write('Password: ');
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen.join('')).toBe('Password: ');
    lines.end();
  });

  it('writes the last record when the stream ends without its newline (a worker that exits)', async () => {
    const text = (await through(['before\n', request.slice(0, 40), request.slice(40)], plain)).toString();
    expect(text).toMatch(/^before\n\[[\d:.]+\] INFO \(8421\): incoming request .*\n$/);
    const cut = (await through(['{"level":30,"time":1,"msg":"cut sh'], plain)).toString();
    expect(cut).toBe('{"level":30,"time":1,"msg":"cut sh');
  });

  it('lets a line longer than 1 MiB through as it came, and a long record under it is still made readable', async () => {
    const huge = `{"level":30,"msg":"${'a'.repeat(1_200_000)}"}\n`;
    const chunks = huge.match(/[\s\S]{1,65536}/g)!;
    const output = await through([...chunks, `${request}\n`], plain);
    expect(output.subarray(0, huge.length).toString()).toBe(huge);
    expect(output.subarray(huge.length).toString()).toMatch(/^\[[\d:.]+\] INFO \(8421\): incoming request /);
    const long = JSON.stringify({ level: 30, time, pid: 1, msg: 'long', body: 'b'.repeat(500_000) });
    expect((await through(long.match(/[\s\S]{1,65536}/g)!, plain)).toString()).toMatch(/^\[[\d:.]+\] INFO \(1\): long \{"body":"b+"\}\n$/);
  });

  it('waits for a formatter still loading, keeping the order; one that fails to load passes everything through', async () => {
    let loaded: (format: FormatRecord) => void = () => undefined;
    const loading = new Promise<FormatRecord>((resolve) => {
      loaded = resolve;
    });
    const pending = through(['first\n', `${request}\n`, 'last\n'], loading);
    setTimeout(() => loaded(plain), 20);
    expect((await pending).toString()).toMatch(/^first\n\[[\d:.]+\] INFO \(8421\): incoming request .*\nlast\n$/);
    const failed = Promise.reject(new Error('no pino-pretty'));
    expect((await through(['first\n', `${request}\n`], failed)).toString()).toBe(`first\n${request}\n`);
  });
});
