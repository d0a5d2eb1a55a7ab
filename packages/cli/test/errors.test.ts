import { readFileSync } from 'node:fs';
import * as build from '@fwjs/build';
import * as core from '@fwjs/core';
import * as dev from '@fwjs/dev';
import * as proxy from '@fwjs/proxy';
import * as runtime from '@fwjs/runtime';
import * as createFw from 'create-fw';
import { describe, expect, it } from 'vitest';
import * as cli from '../src/errors.js';

/**
 * Every package's exports, searched for error classes: a class added to any of them without a
 * code, or with a code docs/errors.md does not explain, fails here. The CLI's own errors are not
 * exported by fwjs, so its errors module stands in for it.
 */
const packages: Record<string, Record<string, unknown>> = {
  '@fwjs/core': core,
  '@fwjs/runtime': runtime,
  '@fwjs/build': build,
  '@fwjs/dev': dev,
  '@fwjs/proxy': proxy,
  fwjs: cli,
  'create-fw': createFw,
};

type ErrorClass = new (...args: unknown[]) => Error;

interface Found {
  where: string;
  errorClass: ErrorClass;
  error: Error & { code?: unknown };
}

function isErrorClass(value: unknown): value is ErrorClass {
  return typeof value === 'function' && value.prototype instanceof Error;
}

// The same class exported by two packages is one class, counted once.
const found = new Map<ErrorClass, Found>();
for (const [name, exports] of Object.entries(packages)) {
  for (const [exported, value] of Object.entries(exports)) {
    // FwError is the abstract base: it has no code of its own.
    if (value === core.FwError || !isErrorClass(value) || found.has(value)) continue;
    // Every constructor takes a message (or a value it makes one of) first, or nothing.
    found.set(value, { where: `${name} ${exported}`, errorClass: value, error: new value('a message') });
  }
}
const all = [...found.values()];
const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
/** The codes docs/errors.md explains: each has a `### FW_…` heading. */
const documented = [...doc.matchAll(/^### `(FW_[A-Z_]+)`$/gm)].map((match) => match[1]);

describe('error codes', () => {
  it('finds the error classes of every package', () => {
    // A floor, so a broken search (say, a package that no longer exports its errors) cannot pass.
    expect(all.length).toBeGreaterThanOrEqual(15);
  });

  it.each(all.map((each) => [each.where, each] as const))('%s has an FW_ code', (_, { error }) => {
    expect(error.code).toMatch(/^FW_[A-Z]+(?:_[A-Z]+)*$/);
  });

  it.each(all.map((each) => [each.where, each] as const))('%s extends FwError (create-fw, which depends on no fw package, excepted)', (where, { error }) => {
    if (where.startsWith('create-fw ')) expect(error).not.toBeInstanceOf(core.FwError);
    else expect(error).toBeInstanceOf(core.FwError);
  });

  it('gives each class a code of its own', () => {
    const codes = all.map(({ error }) => error.code);
    expect(new Set(codes).size).toBe(codes.length);
  });

  it('explains every code in docs/errors.md, and no code that no class has', () => {
    const codes = all.map(({ error }) => String(error.code)).sort();
    expect([...documented].sort()).toEqual(codes);
    expect(new Set(documented).size).toBe(documented.length);
  });
});
