import { Transform, type TransformCallback } from 'node:stream';

/** A pino log record, as Fastify's logger writes one per line. */
export type PinoRecord = Record<string, unknown> & { level: number };

/** Makes one readable line of a record (more for an error: its stack in full), ending in a newline. */
export type FormatRecord = (record: PinoRecord) => string;

/**
 * pino-pretty's formatter, set up once (loading pino-pretty takes tens of milliseconds; a line
 * then takes tens of microseconds): `[12:04:31.118] INFO (8421): incoming request {"reqId":…}`, the
 * record's fields on the same line, an error's message and stack in full below it.
 */
export async function prettyFormatter(options: { colour: boolean }): Promise<FormatRecord> {
  const { prettyFactory } = await import('pino-pretty');
  return prettyFactory({
    colorize: options.colour,
    singleLine: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'hostname',
  });
}

const NEWLINE = 0x0a;
const OPEN_BRACE = 0x7b;
/** A line starting with `{` is held until its end to be read as JSON; one longer than this passes as it is. */
const MAX_RECORD_BYTES = 1024 * 1024;

/**
 * A worker's output, line by line: each pino JSON line becomes pino-pretty's readable line; every
 * other byte (console.log, a crash's stack trace, a partial line, a record longer than 1 MiB)
 * passes through as it came, in order. Only a line that starts with `{` waits for its end: any
 * other is passed on as soon as it arrives, prompts without a newline too. The last line is
 * written when the worker's stream ends, newline or not.
 *
 * `format` may still be loading (a promise): output waits for it, in order; if it cannot be
 * loaded, every line passes through as it came.
 */
export class PinoLines extends Transform {
  private format: FormatRecord | undefined;
  private loading: Promise<FormatRecord | undefined> | undefined;
  /** Where the current line stands: at its start, passing through, or held as a possible record. */
  private mode: 'start' | 'through' | 'held' = 'start';
  private held: Buffer[] = [];
  private heldBytes = 0;

  constructor(format: FormatRecord | Promise<FormatRecord | undefined>) {
    super();
    if (typeof format === 'function') this.format = format;
    else this.loading = format.catch(() => undefined);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    if (!this.loading) {
      this.consume(chunk);
      done();
      return;
    }
    void this.loading.then((format) => {
      this.format = format;
      this.loading = undefined;
      this.consume(chunk);
      done();
    });
  }

  override _flush(done: TransformCallback): void {
    const finish = () => {
      if (this.mode === 'held') this.release();
      done();
    };
    if (this.loading) void this.loading.then(finish);
    else finish();
  }

  private consume(chunk: Buffer): void {
    /** Where the bytes not yet passed on begin: runs of passed-through lines are pushed as one slice. */
    let from = 0;
    let at = 0;
    while (at < chunk.length) {
      if (this.mode === 'start') this.mode = chunk[at] === OPEN_BRACE ? 'held' : 'through';
      const newline = chunk.indexOf(NEWLINE, at);
      const end = newline === -1 ? chunk.length : newline + 1;
      if (this.mode === 'held') {
        if (at > from) this.push(chunk.subarray(from, at));
        this.held.push(chunk.subarray(at, end));
        this.heldBytes += end - at;
        from = end;
        if (newline !== -1) this.release();
        else if (this.heldBytes > MAX_RECORD_BYTES) this.passHeld();
      }
      if (newline !== -1) this.mode = 'start';
      at = end;
    }
    if (from < chunk.length) this.push(chunk.subarray(from));
  }

  /** The held line is complete: its readable form if it is a pino record, else its bytes. */
  private release(): void {
    const line = this.held.length === 1 ? this.held[0]! : Buffer.concat(this.held);
    this.held = [];
    this.heldBytes = 0;
    this.mode = 'start';
    const pretty = this.format && formatLine(line, this.format);
    this.push(pretty ?? line);
  }

  /** Too long to be held: what came of the line so far passes through, and so will its rest. */
  private passHeld(): void {
    for (const part of this.held) this.push(part);
    this.held = [];
    this.heldBytes = 0;
    this.mode = 'through';
  }
}

/** The readable form of one line, or undefined when it is not a pino record. */
function formatLine(line: Buffer, format: FormatRecord): string | undefined {
  const text = line.toString('utf8').trimEnd();
  if (!text.endsWith('}')) return undefined;
  let record: unknown;
  try {
    record = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isPinoRecord(record)) return undefined;
  try {
    return format(record);
  } catch {
    return undefined;
  }
}

/** pino writes a numeric level, and a time or a message, on every line. */
function isPinoRecord(value: unknown): value is PinoRecord {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const record = value as Record<string, unknown>;
  return typeof record.level === 'number' && ('time' in record || 'msg' in record);
}
