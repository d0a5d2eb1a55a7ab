import { describe, expect, it } from 'vitest';
import { CommandQueue } from '../src/command-queue.js';

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every pending promise callback run: one turn of the event loop, no waiting on time. */
function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

describe('CommandQueue', () => {
  it('runs one command at a time, in the order asked for', async () => {
    const queue = new CommandQueue();
    const log: string[] = [];
    const gates = [deferred(), deferred(), deferred()];
    const results = gates.map((gate, i) =>
      queue.run(async () => {
        log.push(`start ${i}`);
        await gate.promise;
        log.push(`end ${i}`);
        return i;
      }),
    );
    await flush();
    expect(log).toEqual(['start 0']);
    expect(queue.size).toBe(3);

    // Finishing a later one first changes nothing: it has not started.
    gates[2]!.resolve();
    await flush();
    expect(log).toEqual(['start 0']);

    gates[0]!.resolve();
    await flush();
    expect(log).toEqual(['start 0', 'end 0', 'start 1']);
    gates[1]!.resolve();
    expect(await Promise.all(results)).toEqual([0, 1, 2]);
    expect(log).toEqual(['start 0', 'end 0', 'start 1', 'end 1', 'start 2', 'end 2']);
    expect(queue.size).toBe(0);
  });

  it('a failing command rejects its own caller only; the next one still runs', async () => {
    const queue = new CommandQueue();
    const failing = queue.run(async () => {
      throw new Error('rollout blew up');
    });
    const next = queue.run(async () => 'next ran');
    await expect(failing).rejects.toThrow('rollout blew up');
    await expect(next).resolves.toBe('next ran');
    expect(queue.size).toBe(0);
  });

  it('idle() resolves once everything enqueued so far has finished', async () => {
    const queue = new CommandQueue();
    const gate = deferred();
    void queue.run(() => gate.promise);
    const failed = queue.run(async () => {
      throw new Error('ignored by idle');
    });
    failed.catch(() => undefined);
    let idle = false;
    void queue.idle().then(() => (idle = true));
    await flush();
    expect(idle).toBe(false);
    gate.resolve();
    await flush();
    expect(idle).toBe(true);
  });
});
