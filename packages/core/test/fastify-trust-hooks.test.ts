import { describe, expect, it } from 'vitest';
import { resolve, resolveSync } from '../src/worker/fastify-trust-hooks.js';

const app = 'file:///srv/app/.fw/builds/1/src/app.js';
const dependency = 'file:///srv/app/node_modules/fastify-plugin/index.js';
const next = (specifier: string) => ({ url: `next:${specifier}` });

describe('the proxy.trust module hooks', () => {
  it("send the app's own import of fastify to the wrapper, through register's async hook", async () => {
    const resolved = await resolve('fastify', { parentURL: app, conditions: ['node', 'import'] }, async (specifier) => next(specifier));
    expect(resolved).toMatchObject({ url: expect.stringMatching(/\/fastify-with-trust\.js$/), shortCircuit: true });
  });

  it("and through registerHooks' in-thread hook, for imports only: a require keeps the real fastify", () => {
    expect(resolveSync('fastify', { parentURL: app, conditions: ['node', 'import'] }, next).url).toMatch(/\/fastify-with-trust\.js$/);
    expect(resolveSync('fastify', { parentURL: app, conditions: ['require', 'node'] }, next).url).toBe('next:fastify');
  });

  it('leave packages in node_modules and other specifiers alone', () => {
    expect(resolveSync('fastify', { parentURL: dependency, conditions: ['import'] }, next).url).toBe('next:fastify');
    expect(resolveSync('fastify-plugin', { parentURL: app, conditions: ['import'] }, next).url).toBe('next:fastify-plugin');
  });
});
