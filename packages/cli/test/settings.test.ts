import { describe, expect, it } from 'vitest';
import { resolveSettings } from '../src/config/settings.js';
import { UsageError } from '../src/usage-error.js';

const base = { appDir: '/app', flags: {}, env: {}, config: {}, configFile: '/app/fw.config.ts' };

describe('resolveSettings', () => {
  it('uses the defaults when nothing is set', () => {
    const settings = resolveSettings(base);
    expect(settings).toMatchObject({ entry: 'src/app.ts', port: 3000, host: '127.0.0.1', gracefulTimeoutMs: 30_000, bootTimeoutMs: 30_000 });
    expect(settings.workers).toBeGreaterThanOrEqual(1);
  });

  it('takes flags over the environment over the config file', () => {
    const all = { flags: { port: '4001' }, env: { PORT: '4002' }, config: { port: 4003 } };
    expect(resolveSettings({ ...base, ...all }).port).toBe(4001);
    expect(resolveSettings({ ...base, ...all, flags: {} }).port).toBe(4002);
    expect(resolveSettings({ ...base, ...all, flags: {}, env: {} }).port).toBe(4003);
  });

  it('reads HOST, WEB_CONCURRENCY and FW_GRACEFUL_TIMEOUT from the environment', () => {
    const settings = resolveSettings({ ...base, env: { HOST: '0.0.0.0', WEB_CONCURRENCY: '3', FW_GRACEFUL_TIMEOUT: '2.5' } });
    expect(settings).toMatchObject({ host: '0.0.0.0', workers: 3, gracefulTimeoutMs: 2_500 });
  });

  it('ignores an empty environment variable', () => {
    expect(resolveSettings({ ...base, env: { PORT: '' }, config: { port: 5000 } }).port).toBe(5000);
  });

  it('names the source and the expectation of a bad value', () => {
    expect(() => resolveSettings({ ...base, flags: { workers: 'many' } })).toThrow(
      new UsageError('invalid --workers "many": expected a whole number from 1 to 256, e.g. 2'),
    );
    expect(() => resolveSettings({ ...base, env: { PORT: '3.5' } })).toThrow(/invalid PORT="3.5" in the environment/);
    expect(() => resolveSettings({ ...base, config: { gracefulTimeout: 0 } })).toThrow(
      /invalid gracefulTimeout: 0 in fw.config.ts: expected seconds above 0/,
    );
  });

  it('does not fall back to a lower-precedence source when a higher one is invalid', () => {
    expect(() => resolveSettings({ ...base, flags: { port: 'x' }, env: { PORT: '3001' } })).toThrow(/invalid --port "x"/);
  });

  it('keeps the long-lived timeout below the graceful timeout: a default shrinks, a given value is refused', () => {
    expect(resolveSettings(base).longLivedTimeoutMs).toBe(5_000);
    expect(resolveSettings({ ...base, flags: { gracefulTimeout: '4' } }).longLivedTimeoutMs).toBe(2_000);
    expect(resolveSettings({ ...base, env: { FW_LONG_LIVED_TIMEOUT: '1.5' } }).longLivedTimeoutMs).toBe(1_500);
    expect(() => resolveSettings({ ...base, flags: { gracefulTimeout: '4', longLivedTimeout: '4' } })).toThrow(
      /long-lived timeout \(4 s\) must be below the graceful timeout \(4 s\).*lower --long-lived-timeout/,
    );
    expect(() => resolveSettings({ ...base, config: { longLivedTimeout: 40 } })).toThrow(UsageError);
  });
});
