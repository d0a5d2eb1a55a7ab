export interface BackoffPolicy {
  /** Delay before the second restart within the window; doubles with every further crash. */
  initialMs: number;
  maxMs: number;
  /** Crashes older than this no longer count. */
  windowMs: number;
}

export const defaultBackoff: BackoffPolicy = { initialMs: 250, maxMs: 15_000, windowMs: 60_000 };

/**
 * How long to wait before replacing a crashed worker. The first crash in the window is replaced at
 * once (one crash is an accident); every further one doubles the wait, so a worker that crashes on
 * every request cannot spin the machine.
 */
export function restartDelay(crashTimes: readonly number[], now: number, policy: BackoffPolicy): number {
  const recent = crashTimes.filter((time) => now - time < policy.windowMs).length;
  if (recent <= 1) return 0;
  return Math.min(policy.maxMs, policy.initialMs * 2 ** (recent - 2));
}
