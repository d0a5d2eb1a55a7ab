/**
 * The app's `fastify`, with `trustProxy` defaulting to `proxy.trust` (FW_TRUST_PROXY). Loaded in
 * place of 'fastify' for the app's own imports; see trust-proxy.ts.
 */
import { createRequire } from 'node:module';
import path from 'node:path';

type Factory = ((options?: Record<string, unknown>) => unknown) & Record<string, unknown>;

const real = createRequire(path.join(process.cwd(), 'package.json'))('fastify') as Factory;
const trustProxy: unknown = JSON.parse(process.env.FW_TRUST_PROXY ?? 'false');

const fastify = Object.assign((options: Record<string, unknown> = {}) => real({ trustProxy, ...options }), real) as Factory;
fastify.fastify = fastify;
fastify.default = fastify;

export default fastify;
export { fastify };
export const errorCodes = real.errorCodes;
