/** How a rolling deploy reaches the proxy and the hosts; the CLI provides these. */
export interface RollingOperations {
  /** Takes the host out of the proxy: no new requests; the ones it has finish. */
  takeOut(host: string): Promise<void>;
  /** Resolves once the proxy has no request in flight on the host (bounded by the caller). */
  waitIdle(host: string): Promise<void>;
  /** Deploys on the host (e.g. `fw upgrade`), resolving once it serves the new version. */
  deploy(host: string): Promise<void>;
  /** Puts the host back into the proxy. */
  putBack(host: string): Promise<void>;
  log(line: string): void;
}

/**
 * A rolling deploy across a fleet through its proxy: one host at a time is taken out, deployed
 * and put back, so the others carry the traffic. A deploy that fails stops the rollout with that
 * host out of the proxy (it is not serving what it should) and every later host untouched.
 */
export async function rollingDeploy(hosts: readonly string[], ops: RollingOperations): Promise<{ ms: number }> {
  const startedAt = Date.now();
  for (const [index, host] of hosts.entries()) {
    ops.log(`${host} (${index + 1}/${hosts.length}): out of the proxy`);
    await ops.takeOut(host);
    await ops.waitIdle(host);
    ops.log(`${host}: deploying`);
    try {
      await ops.deploy(host);
    } catch (error) {
      ops.log(`${host}: deploy failed, stopping the rollout; ${host} stays out of the proxy, later hosts are untouched`);
      throw error;
    }
    await ops.putBack(host);
    ops.log(`${host}: back in the proxy`);
  }
  const ms = Date.now() - startedAt;
  ops.log(`rolled out to ${hosts.length} host${hosts.length === 1 ? '' : 's'} in ${ms} ms`);
  return { ms };
}
