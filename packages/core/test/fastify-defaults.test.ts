/**
 * Under fw, Fastify's return503OnClosing defaults to false for every fastify the worker loads; an
 * app that sets it keeps its value. A stand-in module shaped like fastify's main export records the
 * options it is called with; the real fastify is checked to be wrapped the same way.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultFastifyOptions } from '../src/worker/fastify-defaults.js';

type Factory = ((options?: Record<string, unknown>) => unknown) & { fastify: unknown; default: unknown; errorCodes: unknown; calls?: unknown[] };

const folder = mkdtempSync(path.join(tmpdir(), 'fw-fastify-defaults-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe('defaultFastifyOptions', () => {
  it('wraps fastify-shaped factories as they load: return503OnClosing false unless the app says', () => {
    const standIn = path.join(folder, 'stand-in.cjs');
    writeFileSync(standIn, `function fastify(options) { fastify.calls.push(options); return {}; }
fastify.calls = [];
fastify.errorCodes = { FST_ERR: 1 };
module.exports = fastify;
module.exports.fastify = fastify;
module.exports.default = fastify;
`);
    const require = createRequire(import.meta.url);
    const realBefore = require('fastify') as Factory;

    defaultFastifyOptions();
    const wrapped = require(standIn) as Factory;
    wrapped({ logger: false });
    wrapped({ return503OnClosing: true });
    // The wrapper carries the stand-in's own properties: its `calls` is the stand-in's list.
    expect(wrapped.calls).toEqual([{ return503OnClosing: false, logger: false }, { return503OnClosing: true }]);
    expect(wrapped.fastify).toBe(wrapped);
    expect(wrapped.default).toBe(wrapped);
    expect(wrapped.errorCodes).toEqual({ FST_ERR: 1 });
    expect(require(standIn)).toBe(wrapped);

    const real = require('fastify') as Factory;
    expect(real).not.toBe(realBefore);
    expect(real.fastify).toBe(real);
    expect(real.errorCodes).toBe(realBefore.errorCodes);
  });
});
