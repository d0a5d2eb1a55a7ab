import { Worker } from 'node:worker_threads';

/** How often the watchdog looks, and how often the worker's event loop says it still turns. */
const TICK_MS = 200;
/** A loop silent this long is stuck: the worker cannot run its own orphan exit. */
const STUCK_MS = 1_000;

/**
 * Runs on its own thread, so it works while the worker's event loop is blocked: once the worker's
 * parent (its master) is gone and the loop has not turned for STUCK_MS, the process is killed.
 * A worker with a free loop leaves on its own (the IPC channel's `disconnect`); a stuck one would
 * otherwise keep the port until its loop came free, and a new master could not bind it.
 */
const WATCHDOG = `
const { workerData } = require('node:worker_threads');
const { writeSync } = require('node:fs');
const { masterPid, pid, beat, tickMs, stuckMs } = workerData;
const lastBeat = new BigInt64Array(beat);
setInterval(() => {
  if (process.ppid === masterPid) return;
  const silentMs = Date.now() - Number(Atomics.load(lastBeat, 0));
  if (silentMs < stuckMs) return;
  try {
    writeSync(2, '[fw] worker (pid ' + pid + '): its master (pid ' + masterPid + ') is gone and its event loop has been stuck for ' + silentMs + ' ms: exiting\\n');
  } finally {
    process.kill(pid, 'SIGKILL');
  }
}, tickMs);
`;

/**
 * Starts the watchdog thread of a worker run by a master (about 9 MB: a V8 isolate of its own).
 * It never keeps the process alive, and a watchdog that fails leaves the worker as it was.
 */
export function watchMaster(): void {
  if (!process.connected) return;
  const beat = new SharedArrayBuffer(8);
  const lastBeat = new BigInt64Array(beat);
  const tick = () => Atomics.store(lastBeat, 0, BigInt(Date.now()));
  tick();
  setInterval(tick, TICK_MS).unref();
  const thread = new Worker(WATCHDOG, {
    eval: true,
    workerData: { masterPid: process.ppid, pid: process.pid, beat, tickMs: TICK_MS, stuckMs: STUCK_MS },
    resourceLimits: { maxOldGenerationSizeMb: 16 },
    stdout: true,
    stderr: true,
  });
  thread.on('error', () => undefined);
  thread.unref();
}
