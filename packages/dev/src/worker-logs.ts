import type { Readable } from 'node:stream';
import type { WorkerOutput } from '@fwjs/core';
import { wantsColour } from './paint.js';
import { type FormatRecord, PinoLines, prettyFormatter } from './pino-lines.js';

type Destination = NodeJS.WritableStream & { isTTY?: boolean };

/**
 * Where fw dev's workers write: each worker's stdout to fw dev's stdout and its stderr to fw dev's
 * stderr, every pino line made readable on the way (`PinoLines`), coloured where that stream is a
 * terminal. pino-pretty is loaded once, while the first build runs, never on the way of a save.
 */
export class WorkerLogs {
  private readonly formats: { stdout: Promise<FormatRecord | undefined>; stderr: Promise<FormatRecord | undefined> };
  /** The workers' pipes not yet closed. */
  private readonly open = new Set<Readable>();

  constructor(
    private readonly stdout: Destination = process.stdout,
    private readonly stderr: Destination = process.stderr,
  ) {
    const load = (colour: boolean) =>
      prettyFormatter({ colour }).catch((error: unknown) => {
        stderr.write(`fw dev: pino-pretty could not be loaded, so the app's logs are shown as they are (${String(error)})\n`);
        return undefined;
      });
    const [colourOut, colourErr] = [wantsColour(stdout), wantsColour(stderr)];
    const stdoutFormat = load(colourOut);
    this.formats = { stdout: stdoutFormat, stderr: colourErr === colourOut ? stdoutFormat : load(colourErr) };
  }

  /** The spawner's `output`: called once for every worker started. */
  readonly attach: WorkerOutput = (stdout, stderr) => {
    this.route(stdout, this.formats.stdout, this.stdout);
    this.route(stderr, this.formats.stderr, this.stderr);
  };

  /** fw dev is stopping: a pipe that a process started by a worker still holds must not keep it running. */
  close(): void {
    for (const source of this.open) (source as Readable & { unref?: () => void }).unref?.();
  }

  private route(source: Readable, format: Promise<FormatRecord | undefined>, destination: Destination): void {
    this.open.add(source);
    source.once('close', () => this.open.delete(source));
    source.on('error', () => undefined);
    source.pipe(new PinoLines(format)).pipe(destination, { end: false });
  }
}
