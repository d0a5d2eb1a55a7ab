export type LogFormat = 'text' | 'json';

/** The master's own log: one line per lifecycle event, for people (text) or machines (JSON). */
export interface MasterLog {
  (message: string, fields?: Record<string, unknown>): void;
  /** Reopens the log file (after logrotate moved it); a no-op when logging to standard output. */
  reopen(): void;
  /** Writes out what is buffered. */
  flush(): void;
}

/**
 * Text lines are `[fw] message`; JSON lines are pino's (what Fastify's logs already are), with the
 * event's fields beside the message, so one parser reads the master's and the app's logs.
 */
export async function createMasterLog(options: { format: LogFormat; file?: string }): Promise<MasterLog> {
  if (options.format === 'text' && !options.file) {
    // The common case needs no logging library: pino alone is about 9 MB of the master's memory.
    const log = ((message: string) => {
      process.stdout.write(`[fw] ${message}\n`);
    }) as MasterLog;
    log.reopen = () => undefined;
    log.flush = () => undefined;
    return log;
  }
  const { default: pino } = await import('pino');
  const destination = pino.destination({ dest: options.file ?? 1, sync: true, mkdir: true });
  const json = options.format === 'json'
    ? pino({ base: { pid: process.pid, name: 'fw' }, timestamp: pino.stdTimeFunctions.isoTime }, destination)
    : undefined;
  const log = ((message: string, fields: Record<string, unknown> = {}) => {
    if (json) json.info(fields, message);
    else destination.write(`[fw] ${message}\n`);
  }) as MasterLog;
  log.reopen = () => {
    if (options.file) destination.reopen();
  };
  log.flush = () => destination.flushSync();
  return log;
}
