import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import { pathToFileURL } from 'node:url';

/** The part of a Fastify instance fw uses; duck-typed so core does not depend on Fastify. */
export interface FastifyLike {
  server: Server;
  ready(): PromiseLike<unknown>;
  listen(options: Record<string, unknown>): Promise<string>;
  close(): PromiseLike<unknown>;
  routing(req: IncomingMessage, res: ServerResponse): void;
}

export type LoadedApp =
  | { kind: 'fastify'; app: FastifyLike }
  | { kind: 'listener'; listener: RequestListener };

export class AppContractError extends Error {
  override name = 'AppContractError';
}

const contract =
  'The entry must default-export a Fastify instance, a function (sync or async) returning one, ' +
  'or a (req, res) request listener.';

/**
 * Imports the built entry and turns its default export into something fw can serve, awaiting the
 * app's own start-up (`ready()` for Fastify). A function with two or more parameters is a request
 * listener; any other function is a factory.
 */
export async function loadApp(entry: string, timings: { importMs?: number } = {}): Promise<LoadedApp> {
  const startedAt = performance.now();
  const module = (await import(pathToFileURL(entry).href)) as { default?: unknown };
  timings.importMs = performance.now() - startedAt;
  if (!('default' in module) || module.default === undefined) {
    throw new AppContractError(`${entry} has no default export. ${contract}`);
  }
  let exported: unknown = module.default;
  if (typeof exported === 'function' && exported.length < 2) {
    exported = await (exported as () => unknown)();
  }
  if (isFastify(exported)) {
    await exported.ready();
    return { kind: 'fastify', app: exported };
  }
  if (typeof exported === 'function') {
    return { kind: 'listener', listener: exported as RequestListener };
  }
  throw new AppContractError(`The default export of ${entry} is ${describe(exported)}. ${contract}`);
}

function isFastify(value: unknown): value is FastifyLike {
  if (typeof value !== 'object' && typeof value !== 'function') return false;
  if (value === null) return false;
  const candidate = value as Partial<Record<keyof FastifyLike, unknown>>;
  return typeof candidate.ready === 'function' && typeof candidate.routing === 'function' &&
    typeof candidate.listen === 'function' && typeof candidate.server === 'object';
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object') return `an object (${Object.keys(value).slice(0, 5).join(', ') || 'no keys'})`;
  return `a ${typeof value}`;
}
