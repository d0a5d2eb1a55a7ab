/**
 * Runs commands one at a time, in the order they were asked for: no two rollouts, scalings or
 * replacements ever interleave. Signal handlers and IPC events only enqueue.
 */
export class CommandQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private pending = 0;

  run<T>(command: () => Promise<T>): Promise<T> {
    this.pending++;
    const result = this.tail.then(command).finally(() => {
      this.pending--;
    });
    this.tail = result.catch(() => undefined);
    return result;
  }

  get size(): number {
    return this.pending;
  }

  /** Resolves once every command enqueued so far has finished. */
  idle(): Promise<void> {
    return this.tail.then(() => undefined);
  }
}
