import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findEntry } from '../src/config/find-entry.js';

describe('findEntry', () => {
  let appDir: string;
  beforeEach(async () => {
    appDir = await mkdtemp(path.join(tmpdir(), 'fw-entry-'));
    await mkdir(path.join(appDir, 'src'));
  });
  afterEach(async () => {
    await rm(appDir, { recursive: true, force: true });
  });
  const touch = (name: string, text = '') => writeFile(path.join(appDir, name), text);

  it('names src/app.ts when there is nothing, so the error points at the usual place', () => {
    expect(findEntry(appDir)).toBe('src/app.ts');
  });

  it('looks at app, server, main, index in that order, in any module extension', async () => {
    await touch('src/index.js');
    expect(findEntry(appDir)).toBe('src/index.js');
    await touch('src/main.ts');
    expect(findEntry(appDir)).toBe('src/main.ts');
    await touch('src/server.mts');
    expect(findEntry(appDir)).toBe('src/server.mts');
    await touch('src/app.cts');
    expect(findEntry(appDir)).toBe('src/app.cts');
  });

  it("falls back to package.json's main when it exists", async () => {
    await touch('package.json', JSON.stringify({ main: './lib/start.js' }));
    expect(findEntry(appDir)).toBe('src/app.ts');
    await mkdir(path.join(appDir, 'lib'));
    await touch('lib/start.js');
    expect(findEntry(appDir)).toBe(path.join('lib', 'start.js'));
  });
});
