import { Client } from 'undici';

export interface LoadStats {
  ok: number;
  /** Responses that were not 2xx, by status. */
  statuses: Record<string, number>;
  /** Requests that got no response, by error code. */
  errors: Record<string, number>;
  failed: number;
  /** How many requests each answering version served. */
  versions: Record<string, number>;
  connectionsOpened: number;
  /** The longest time without any successful answer, while the load ran. */
  maxGapMs: number;
}

export interface Load {
  /** Counts so far. */
  stats(): LoadStats;
  /** The version in the newest answer received after `since` (ms epoch), if any. */
  versionAfter(since: number): string | undefined;
  /** Resolves with the time the first answer from `version` arrived; rejects after `timeoutMs`. */
  waitForVersion(version: string, timeoutMs: number): Promise<number>;
  stop(): Promise<LoadStats>;
}

/**
 * A keep-alive load that never retries: `connections` clients, each one connection sending the
 * next GET as soon as the last answer arrived. Every request is counted: ok, status or error code;
 * a 2xx answer whose version cannot be read (not JSON, by default) counts as failed.
 * undici re-sends nothing that was written; a reset on a busy connection is an error here.
 */
export function startLoad(
  origin: string,
  options: { connections: number; path?: string; pauseMs?: number; /** The version an answer's body names: its JSON `version` unless told. */ version?: (body: string) => string },
): Load {
  const readVersion = options.version ?? ((body: string) => (JSON.parse(body) as { version?: string }).version ?? '?');
  const stats: LoadStats = { ok: 0, statuses: {}, errors: {}, failed: 0, versions: {}, connectionsOpened: 0, maxGapMs: 0 };
  let lastOkAt = Date.now();
  const answers: { at: number; version: string }[] = [];
  const versionWaiters = new Set<(answer: { at: number; version: string }) => void>();
  let running = true;
  const clients = Array.from({ length: options.connections }, () =>
    new Client(origin, { pipelining: 1, connect: { timeout: 5_000 }, headersTimeout: 10_000, bodyTimeout: 10_000 }),
  );
  for (const client of clients) client.on('connect', () => stats.connectionsOpened++);

  const loop = async (client: Client) => {
    while (running) {
      try {
        const response = await client.request({ method: 'GET', path: options.path ?? '/' });
        const text = await response.body.text();
        if (response.statusCode >= 200 && response.statusCode < 300) {
          stats.ok++;
          const now = Date.now();
          stats.maxGapMs = Math.max(stats.maxGapMs, now - lastOkAt);
          lastOkAt = now;
          const version = readVersion(text);
          stats.versions[version] = (stats.versions[version] ?? 0) + 1;
          const answer = { at: Date.now(), version };
          answers.push(answer);
          if (answers.length > 10_000) answers.splice(0, 5_000);
          for (const waiter of versionWaiters) waiter(answer);
        } else {
          stats.failed++;
          stats.statuses[response.statusCode] = (stats.statuses[response.statusCode] ?? 0) + 1;
        }
      } catch (error) {
        stats.failed++;
        const code = (error as { code?: string }).code ?? (error as Error).name;
        stats.errors[code] = (stats.errors[code] ?? 0) + 1;
      }
      if (options.pauseMs) await new Promise((resolve) => setTimeout(resolve, options.pauseMs));
    }
  };
  const loops = clients.map(loop);

  return {
    stats: () => structuredClone(stats),
    versionAfter: (since) => answers.findLast((answer) => answer.at >= since)?.version,
    waitForVersion: (version, timeoutMs) =>
      new Promise<number>((resolve, reject) => {
        const seen = answers.find((answer) => answer.version === version);
        if (seen) return resolve(seen.at);
        const timer = setTimeout(() => {
          versionWaiters.delete(waiter);
          reject(new Error(`no answer from version ${version} within ${timeoutMs} ms (${JSON.stringify(stats)})`));
        }, timeoutMs);
        const waiter = (answer: { at: number; version: string }) => {
          if (answer.version !== version) return;
          clearTimeout(timer);
          versionWaiters.delete(waiter);
          resolve(answer.at);
        };
        versionWaiters.add(waiter);
      }),
    stop: async () => {
      running = false;
      await Promise.all(loops);
      await Promise.all(clients.map((client) => client.close().catch(() => undefined)));
      return structuredClone(stats);
    },
  };
}
