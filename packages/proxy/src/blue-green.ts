export type Color = 'blue' | 'green';

export const otherColor = (color: Color): Color => (color === 'blue' ? 'green' : 'blue');

/** How the switch reaches the two fw masters and the proxy; the CLI provides these. */
export interface BlueGreenOperations {
  /** The color now serving, or null if neither runs. */
  liveColor(): Promise<Color | null>;
  /** Starts a master for the color on its own socket with the latest build; resolves once it serves. */
  start(color: Color): Promise<void>;
  /** Stops the color's master gracefully; resolves once it has exited. */
  stop(color: Color): Promise<void>;
  /** Sends new requests to the color (and none to the other), if the proxy must be told. */
  route(to: Color, from: Color | null): Promise<void>;
  /** Takes a stopped color out of the proxy, if the proxy must be told. */
  retire(color: Color): Promise<void>;
  log(line: string): void;
}

/**
 * Blue/green: the idle color starts on its own socket and must serve before any traffic moves;
 * then the proxy sends new requests to it, and only then does the old color drain and stop. If the
 * new color cannot start, nothing moves and the old one keeps serving.
 */
export async function switchColors(ops: BlueGreenOperations): Promise<{ from: Color | null; to: Color; ms: number }> {
  const startedAt = Date.now();
  const from = await ops.liveColor();
  const to = from ? otherColor(from) : 'blue';
  ops.log(`starting ${to}${from ? ` (${from} serves meanwhile)` : ''}`);
  await ops.start(to);
  ops.log(`${to} is ready; moving traffic to it`);
  await ops.route(to, from);
  if (from) {
    ops.log(`draining and stopping ${from}`);
    await ops.stop(from);
    await ops.retire(from);
  }
  const ms = Date.now() - startedAt;
  ops.log(`${to} serves${from ? `; ${from} stopped` : ''} (${ms} ms)`);
  return { from, to, ms };
}
