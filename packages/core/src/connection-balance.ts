/**
 * Keeps kept-alive connections spread over the workers.
 *
 * The workers share one listening socket, and whichever is first to accept gets the connection.
 * A client that keeps its connections alive (a proxy's upstream pool, a load generator, a browser)
 * then stays wherever its connections first landed: all of them on the one worker that existed
 * when they opened (before a TTIN, after a crash's replacement), or 90/10 after a burst of
 * reconnects. A worker holding well over its share is asked to let a few of them go, each with
 * `Connection: close` on its next response, which every HTTP client handles; the client reconnects,
 * and an idle worker is the likelier one to accept it. Repeated every few seconds, the spread
 * converges without any connection being cut.
 */

export interface ConnectionCount {
  id: number;
  /** Open connections, kept-alive ones included, from the worker's last heartbeat. */
  connections: number;
}

export interface BalanceOptions {
  /** A worker is over its share beyond this fraction above the even share (0.25: 25%). */
  tolerance: number;
  /** ... and by at least this many connections, so small numbers are left alone. */
  minExcess: number;
}

export const DEFAULT_BALANCE: BalanceOptions = { tolerance: 0.25, minExcess: 2 };

/** How many connections each worker over its share should let go (none listed: nothing to do). */
export function connectionsToShed(workers: readonly ConnectionCount[], options: BalanceOptions = DEFAULT_BALANCE): Map<number, number> {
  const shed = new Map<number, number>();
  if (workers.length < 2) return shed;
  const total = workers.reduce((sum, worker) => sum + worker.connections, 0);
  const even = total / workers.length;
  for (const worker of workers) {
    const excess = worker.connections - even;
    if (excess >= options.minExcess && worker.connections > even * (1 + options.tolerance)) shed.set(worker.id, Math.floor(excess));
  }
  return shed;
}
