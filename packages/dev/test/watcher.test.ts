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
