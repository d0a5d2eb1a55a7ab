import { describe, expect, it } from 'vitest';
import { detectEntryKind, parameterNames } from '../src/worker/entry-kind.js';

const isFastify = (value: unknown) => typeof value === 'object' && value !== null && 'routing' in value;
const detect = (value: unknown, options?: unknown) => detectEntryKind({ default: value, options }, isFastify).kind;

describe('what an entry exports', () => {
  it('a Fastify instance', () => {
    expect(detect({ routing() {} })).toBe('instance');
  });

  it('a factory: no parameters, or one that takes options', () => {
    expect(detect(() => ({}))).toBe('factory');
    expect(detect(async function createApp() {})).toBe('factory');
    expect(detect((opts: unknown) => opts)).toBe('factory');
  });

  it("a plugin: fastify-cli's shape (exported options), fastify-plugin's marks, or named like one", () => {
    expect(detect(async (a: unknown, b: unknown) => [a, b], {})).toBe('plugin');
    const wrapped = Object.assign((a: unknown, b: unknown) => [a, b], { [Symbol.for('skip-override')]: true });
    expect(detect(wrapped)).toBe('plugin');
    expect(detect(async (fastify: unknown, opts: unknown) => [fastify, opts])).toBe('plugin');
    expect(detect(function (instance: unknown, _opts: unknown, done: () => void) { done(); return instance; })).toBe('plugin');
    expect(detect(async (fastify: unknown) => fastify)).toBe('plugin');
  });

  it('a listener: an Express app, or (req, res)', () => {
    const express = Object.assign((req: unknown, res: unknown, next: unknown) => [req, res, next], { handle() {}, use() {} });
    expect(detect(express)).toBe('listener');
    expect(detect((req: unknown, res: unknown) => [req, res])).toBe('listener');
    expect(detect(async (incoming: unknown, outgoing: unknown) => [incoming, outgoing])).toBe('listener');
  });

  it('two parameters with names that say nothing are ambiguous, not guessed', () => {
    expect(detect((a: unknown, b: unknown) => [a, b])).toBe('ambiguous');
    expect(detect(({ a }: { a: unknown }, b: unknown) => [a, b])).toBe('ambiguous');
  });

  it('anything else is not an app', () => {
    expect(detect(42)).toBe('invalid');
    expect(detect({ hello: 'world' })).toBe('invalid');
  });
});

describe('parameterNames', () => {
  it('reads arrows, functions, defaults, rest and comments', () => {
    expect(parameterNames((fastify: unknown, opts = {}) => [fastify, opts])).toEqual(['fastify', 'opts']);
    expect(parameterNames(async (x: unknown) => x)).toEqual(['x']);
    expect(parameterNames(function named(/* the request */ req: unknown, res = { a: [1, 2] }, ...rest: unknown[]) { return [req, res, rest]; })).toEqual(['req', 'res', 'rest']);
    expect(parameterNames(() => 1)).toEqual([]);
  });
});

describe('a fetch handler is not a (req, res) listener', () => {
  it('is refused with the way to serve it', () => {
    const detected = detectEntryKind({ default: async (request: unknown) => request, options: undefined }, () => false);
    expect(detected.kind).toBe('invalid');
    expect(detected.why).toMatch(/fetch handler .*getRequestListener/);
    expect(detectEntryKind({ default: (request: unknown, env: unknown, ctx: unknown) => [request, env, ctx], options: undefined }, () => false).kind).toBe('invalid');
  });
});
