import { describe, expect, it } from 'vitest';
import { resolveSettings } from '../src/config/settings.js';
import { UsageError } from '../src/errors.js';

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
      /invalid gracefulTimeout: 0 in fw.config.ts: expected seconds, at least 2/,
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

  it('reads numbers strictly: decimal digits only, never what Number() also takes', () => {
    const refused = (flags: Record<string, string>, pattern: RegExp) => expect(() => resolveSettings({ ...base, flags })).toThrow(pattern);
    refused({ port: '0x50' }, /^invalid --port "0x50": expected a whole number from 0 to 65535/);
    refused({ workers: '1e1' }, /^invalid --workers "1e1": expected a whole number from 1 to 256/);
    refused({ workers: '0b11' }, /invalid --workers "0b11"/);
    refused({ maxRequests: '1_000' }, /invalid --max-requests "1_000"/);
    refused({ maxMemory: '5e2' }, /invalid --max-memory "5e2"/);
    refused({ gracefulTimeout: '1e1' }, /invalid --graceful-timeout "1e1": expected seconds/);
    refused({ gracefulTimeout: 'Infinity' }, /invalid --graceful-timeout "Infinity"/);
    refused({ bootTimeout: '0x1e' }, /invalid --boot-timeout "0x1e"/);
    refused({ timeout: '+30' }, /invalid --timeout "\+30"/);
    refused({ timeout: '30.' }, /invalid --timeout "30\."/);
    expect(() => resolveSettings({ ...base, env: { PORT: '0x50' } })).toThrow(/invalid PORT="0x50" in the environment/);
    expect(() => resolveSettings({ ...base, env: { WEB_CONCURRENCY: '1e1' } })).toThrow(/invalid WEB_CONCURRENCY="1e1" in the environment/);
    expect(() => resolveSettings({ ...base, env: { FW_TIMEOUT: '3e1' } })).toThrow(/invalid FW_TIMEOUT="3e1" in the environment/);
    // Plain numbers still pass, with spaces around them and decimals for seconds.
    expect(resolveSettings({ ...base, flags: { port: ' 8080 ', workers: '010', gracefulTimeout: '2.5', timeout: '3' } })).toMatchObject({
      port: 8080,
      workers: 10,
      gracefulTimeoutMs: 2_500,
      timeoutMs: 3_000,
    });
  });

  it('takes a number in fw.config.ts only when it is finite and of the right kind', () => {
    const config = (values: Record<string, unknown>) => resolveSettings({ ...base, config: values as never });
    expect(() => config({ port: 3000.5 })).toThrow(/invalid port: 3000.5 in fw.config.ts/);
    expect(() => config({ workers: Number.NaN })).toThrow(/invalid workers: NaN in fw.config.ts/);
    expect(() => config({ timeout: Number.POSITIVE_INFINITY })).toThrow(/invalid timeout: Infinity in fw.config.ts/);
    expect(() => config({ port: '0x50' })).toThrow(/invalid port: "0x50" in fw.config.ts/);
    expect(() => config({ workers: true })).toThrow(/invalid workers: true in fw.config.ts/);
    expect(config({ port: 8080, workers: 3, gracefulTimeout: 2.5 })).toMatchObject({ port: 8080, workers: 3, gracefulTimeoutMs: 2_500 });
  });

  it('refuses a --timeout below three heartbeats, saying why', () => {
    expect(() => resolveSettings({ ...base, flags: { timeout: '0.9' } })).toThrow(
      new UsageError('invalid --timeout "0.9": workers send a heartbeat every 1 s, so a timeout below 3 s (three heartbeats) would kill healthy workers; use 3 or more, e.g. 30'),
    );
    expect(() => resolveSettings({ ...base, env: { FW_TIMEOUT: '2.9' } })).toThrow(/invalid FW_TIMEOUT="2.9" in the environment: .*use 3 or more/);
    expect(() => resolveSettings({ ...base, config: { timeout: 1 } })).toThrow(/invalid timeout: 1 in fw.config.ts: .*below 3 s/);
    expect(resolveSettings({ ...base, flags: { timeout: '3' } }).timeoutMs).toBe(3_000);
    // Slower heartbeats (FW_HEARTBEAT_MS) raise the floor; faster ones never lower it.
    expect(() => resolveSettings({ ...base, flags: { timeout: '5' }, env: { FW_HEARTBEAT_MS: '2000' } })).toThrow(/every 2 s, so a timeout below 6 s/);
    expect(() => resolveSettings({ ...base, flags: { timeout: '2' }, env: { FW_HEARTBEAT_MS: '100' } })).toThrow(/below 3 s/);
  });

  it('refuses other values that cannot work: a graceful timeout under 2 s, a boot timeout under 1 s, a memory limit under 64 MB', () => {
    expect(() => resolveSettings({ ...base, flags: { gracefulTimeout: '1.5' } })).toThrow(/invalid --graceful-timeout "1.5": .*2 s or more/);
    expect(resolveSettings({ ...base, flags: { gracefulTimeout: '2' } })).toMatchObject({ gracefulTimeoutMs: 2_000, longLivedTimeoutMs: 1_000 });
    expect(() => resolveSettings({ ...base, flags: { bootTimeout: '0.5' } })).toThrow(/invalid --boot-timeout "0.5": .*use 1 or more/);
    expect(resolveSettings({ ...base, flags: { bootTimeout: '1' } }).bootTimeoutMs).toBe(1_000);
    expect(() => resolveSettings({ ...base, flags: { maxMemory: '10' } })).toThrow(/invalid --max-memory "10": .*use 0 \(no limit\) or 64 or more/);
    expect(resolveSettings({ ...base, flags: { maxMemory: '0' } }).maxMemoryMb).toBe(0);
    expect(resolveSettings({ ...base, flags: { maxMemory: '64' } }).maxMemoryMb).toBe(64);
  });
});
