import { describe, expect, it } from 'vitest';
import { classify } from '../src/watcher.js';

describe('classify', () => {
  it('tells sources from the environment, the config and the dependencies', () => {
    expect(classify('src/app.ts')).toBe('source');
    expect(classify('.env')).toBe('env');
    expect(classify('.env.local')).toBe('env');
    expect(classify('fw.config.ts')).toBe('config');
    expect(classify('fw.config.mjs')).toBe('config');
    expect(classify('package.json')).toBe('dependencies');
    expect(classify('package-lock.json')).toBe('dependencies');
  });

  it('only counts those files at the top of the app folder', () => {
    expect(classify('src/.env')).toBe('source');
    expect(classify('fixtures/package.json')).toBe('source');
  });
});

describe('watchApp', () => {
  it('reports a burst of saves as one batch, and ignores node_modules and .fw', async () => {
    const { mkdtemp, mkdir, rm, writeFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const path = await import('node:path');
    const { watchApp } = await import('../src/watcher.js');
    const dir = await mkdtemp(path.join(tmpdir(), 'fw-watch-'));
    await mkdir(path.join(dir, 'src'));
    await mkdir(path.join(dir, 'node_modules'));
    await mkdir(path.join(dir, '.fw'));
    const batches: string[][] = [];
    // A 200 ms window: the five writes land inside it even on a loaded machine (with 20 ms, a busy
    // CI machine delivered them as two batches).
    const watcher = watchApp(dir, (changes) => batches.push(changes.map((change) => change.file).sort()), 200);
    try {
      await watcher.ready;
      await Promise.all([
        writeFile(path.join(dir, 'src', 'a.ts'), 'a'),
        writeFile(path.join(dir, 'src', 'b.ts'), 'b'),
        writeFile(path.join(dir, 'node_modules', 'x.js'), 'x'),
        writeFile(path.join(dir, '.fw', 'y.js'), 'y'),
        writeFile(path.join(dir, '.env'), 'A=1'),
      ]);
      await expect.poll(() => batches.length, { timeout: 5_000, interval: 10 }).toBeGreaterThan(0);
      // No second batch follows: the burst was one.
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(batches).toEqual([['.env', 'src/a.ts', 'src/b.ts']]);
    } finally {
      await watcher.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
