import { availableParallelism } from 'node:os';
import path from 'node:path';
import { DEFAULT_HOST } from '@fwjs/core';
import { parseTrust, type TrustSetting } from '@fwjs/proxy';
import { UsageError } from '../usage-error.js';
import type { FwConfig } from './define-config.js';
import { findEntry } from './find-entry.js';

export interface Settings {
  appDir: string;
  entry: string;
  /** What the entry exports, when fw.config.ts says (otherwise the worker detects it). */
  entryKind: FwConfig['entryKind'];
  port: number;
  host: string;
  workers: number;
  gracefulTimeoutMs: number;
  /** How long a draining worker leaves WebSockets and event streams to the app before fw closes them. */
  longLivedTimeoutMs: number;
  /** After a reload, a crash of the new generation within this rolls back to the previous build (0: off). */
  bakeTimeMs: number;
  bootTimeoutMs: number;
  /** A worker whose heartbeat stops for this long is killed and replaced. */
  timeoutMs: number;
  maxRequests: number;
  maxRequestsJitter: number;
  maxMemoryMb: number;
  /** Where to listen: `host:port` and `unix:path` specs; empty means `host`:`port`. */
  bind: string[];
  /** File mode for unix sockets. */
  socketMode: number;
  /** Fastify's trustProxy for the workers, from `proxy.trust`; false trusts nothing. */
  trustProxy: TrustSetting;
  /** The fw.config.* file read (with bundle-require, on esbuild), or null when the app has none. */
  configFile: string | null;
}

/** The settings that are one value each, read from a flag, the environment or fw.config.ts (the rest have readers of their own below). */
type Key = Exclude<keyof FwConfig, 'entryKind' | 'bind' | 'socketMode' | 'proxy'>;

interface Spec<T> {
  flag: string;
  env: string[];
  expected: string;
  default: () => T;
  parse: (raw: unknown) => T | undefined;
  /** Why a value that parses cannot work (a floor), with the fix; undefined when it can. */
  check?: (value: T, env: NodeJS.ProcessEnv) => string | undefined;
}

/**
 * Numbers are read strictly: a flag or an environment variable is decimal digits (with a point
 * for seconds), never what `Number()` also takes (`0x50`, `1e1`, `Infinity`); a number in
 * fw.config.ts must be a finite number of the right kind.
 */
const numberFrom = (raw: unknown, pattern: RegExp): number | undefined => {
  if (typeof raw === 'number') return Number.isFinite(raw) ? raw : undefined;
  if (typeof raw === 'string' && pattern.test(raw.trim())) return Number(raw.trim());
  return undefined;
};
const wholeNumber = (min: number, max: number) => (raw: unknown) => {
  const value = numberFrom(raw, /^\d+$/);
  return value !== undefined && Number.isSafeInteger(value) && value >= min && value <= max ? value : undefined;
};
/** Seconds from 0 (off) up to an hour. */
const secondsOrOff = (raw: unknown) => {
  const value = numberFrom(raw, /^\d+(?:\.\d+)?$/);
  return value !== undefined && value >= 0 && value <= 3_600 ? value : undefined;
};
/** Seconds above 0, up to a day: plain decimals such as 30 or 2.5. */
const seconds = (raw: unknown) => {
  const value = numberFrom(raw, /^\d+(?:\.\d+)?$/);
  return value !== undefined && value > 0 && value <= 86_400 ? value : undefined;
};

/**
 * How often a worker reports (`FW_HEARTBEAT_MS`, read as the worker reads it; 1 s by default).
 * A heartbeat timeout must allow three of them: one late beat is not a stuck event loop.
 */
function heartbeatMs(env: NodeJS.ProcessEnv): number {
  return Math.max(1_000, Number(env.FW_HEARTBEAT_MS) || 1_000);
}
const checkTimeout = (value: number, env: NodeJS.ProcessEnv) => {
  const beat = heartbeatMs(env) / 1000;
  return value < beat * 3
    ? `workers send a heartbeat every ${beat} s, so a timeout below ${beat * 3} s (three heartbeats) would kill healthy workers; use ${beat * 3} or more, e.g. 30`
    : undefined;
};
/** A draining worker closes idle kept-alive connections after the keep-alive timeout it announced: the graceful timeout minus 1 s, at least 1 s. */
const checkGracefulTimeout = (value: number) =>
  value < 2
    ? 'draining workers close idle kept-alive connections 1 s before the graceful timeout, and no sooner than after 1 s idle, so it must be 2 s or more, e.g. 30'
    : undefined;
const checkBootTimeout = (value: number) =>
  value < 1 ? 'a worker takes longer than that to start Node.js and load the app; use 1 or more, e.g. 30' : undefined;
/** Node.js alone takes about 40 MB: below this every worker would be recycled as soon as it serves. */
const MIN_MAX_MEMORY_MB = 64;
const checkMaxMemory = (value: number) =>
  value > 0 && value < MIN_MAX_MEMORY_MB
    ? `a worker uses more than that as soon as it starts (Node.js alone takes about 40 MB) and would be recycled forever; use 0 (no limit) or ${MIN_MAX_MEMORY_MB} or more, e.g. 512`
    : undefined;
const text = (raw: unknown) => (typeof raw === 'string' && raw.trim() !== '' ? raw.trim() : undefined);

/** Every setting: where it comes from, what it accepts, its default. */
const specs: { [K in Key]: Spec<K extends 'entry' | 'host' ? string : number> } = {
  timeout: { flag: '--timeout', env: ['FW_TIMEOUT'], expected: 'seconds, at least 3, e.g. 30', default: () => 30, parse: seconds, check: checkTimeout },
  maxRequests: { flag: '--max-requests', env: ['FW_MAX_REQUESTS'], expected: 'a whole number, 0 for no limit, e.g. 10000', default: () => 0, parse: wholeNumber(0, Number.MAX_SAFE_INTEGER) },
  maxRequestsJitter: { flag: '--max-requests-jitter', env: ['FW_MAX_REQUESTS_JITTER'], expected: 'a whole number, e.g. 500', default: () => 0, parse: wholeNumber(0, Number.MAX_SAFE_INTEGER) },
  maxMemory: { flag: '--max-memory', env: ['FW_MAX_MEMORY'], expected: `megabytes, 0 for no limit or at least ${MIN_MAX_MEMORY_MB}, e.g. 512`, default: () => 0, parse: wholeNumber(0, 1_048_576), check: checkMaxMemory },
  entry: { flag: '--entry', env: [], expected: 'a path such as src/app.ts', default: () => '', parse: text },
  port: { flag: '--port', env: ['PORT'], expected: 'a whole number from 0 to 65535, e.g. 3000', default: () => 3000, parse: wholeNumber(0, 65_535) },
  host: { flag: '--host', env: ['HOST'], expected: 'an address such as 127.0.0.1 or 0.0.0.0', default: () => DEFAULT_HOST, parse: text },
  workers: { flag: '--workers', env: ['WEB_CONCURRENCY'], expected: 'a whole number from 1 to 256, e.g. 2', default: () => availableParallelism(), parse: wholeNumber(1, 256) },
  gracefulTimeout: { flag: '--graceful-timeout', env: ['FW_GRACEFUL_TIMEOUT'], expected: 'seconds, at least 2, e.g. 30', default: () => 30, parse: seconds, check: checkGracefulTimeout },
  bakeTime: { flag: '--bake-time', env: ['FW_BAKE_TIME'], expected: 'seconds, 0 for none, e.g. 5', default: () => 5, parse: secondsOrOff },
  longLivedTimeout: { flag: '--long-lived-timeout', env: ['FW_LONG_LIVED_TIMEOUT'], expected: 'seconds above 0, below the graceful timeout, e.g. 5', default: () => 5, parse: seconds },
  bootTimeout: { flag: '--boot-timeout', env: ['FW_BOOT_TIMEOUT'], expected: 'seconds, at least 1, e.g. 30', default: () => 30, parse: seconds, check: checkBootTimeout },
};

export interface SettingSources {
  appDir: string;
  flags: Partial<Record<Key, string | undefined>> & { bind?: string[]; socketMode?: string | undefined };
  env: NodeJS.ProcessEnv;
  config: FwConfig;
  configFile: string | null;
}

/** True when a flag, the environment or the config file gives `key`. */
function isSet(sources: SettingSources, key: Key): boolean {
  const value = (name: string) => sources.env[name] !== undefined && sources.env[name] !== '';
  return sources.flags[key] !== undefined || specs[key].env.some(value) || sources.config[key as keyof FwConfig] !== undefined;
}

/**
 * fw closes long-lived connections before a draining worker is killed, so the long-lived timeout
 * is below the graceful one: the default shrinks to half a short graceful timeout; a value given
 * that is not below it is refused.
 */
function resolveLongLivedTimeout(ms: number, gracefulTimeoutMs: number, given: boolean): number {
  if (ms < gracefulTimeoutMs) return ms;
  if (!given) return gracefulTimeoutMs / 2;
  throw new UsageError(
    `the long-lived timeout (${ms / 1000} s) must be below the graceful timeout (${gracefulTimeoutMs / 1000} s): ` +
      'fw closes WebSockets and event streams before it kills a draining worker; lower --long-lived-timeout or raise --graceful-timeout',
  );
}

/** Precedence: command-line flags, then the environment, then `fw.config.ts`, then defaults. */
export function resolveSettings(sources: SettingSources): Settings {
  const pick = <K extends Key>(key: K) => {
    const spec = specs[key];
    const candidates: [label: string, raw: unknown][] = [];
    const flag = sources.flags[key];
    if (flag !== undefined) candidates.push([`${spec.flag} "${flag}"`, flag]);
    for (const name of spec.env) {
      const value = sources.env[name];
      if (value !== undefined && value !== '') candidates.push([`${name}="${value}" in the environment`, value]);
    }
    const fromConfig = sources.config[key];
    if (fromConfig !== undefined) {
      const shown = typeof fromConfig === 'number' ? String(fromConfig) : JSON.stringify(fromConfig);
      candidates.push([`${key}: ${shown} in ${path.basename(sources.configFile ?? 'fw.config.ts')}`, fromConfig]);
    }
    const [label, raw] = candidates[0] ?? [];
    if (label === undefined) return spec.default();
    const value = spec.parse(raw);
    if (value === undefined) throw new UsageError(`invalid ${label}: expected ${spec.expected}`);
    const problem = (spec.check as ((value: unknown, env: NodeJS.ProcessEnv) => string | undefined) | undefined)?.(value, sources.env);
    if (problem) throw new UsageError(`invalid ${label}: ${problem}`);
    return value;
  };
  const gracefulTimeoutMs = (pick('gracefulTimeout') as number) * 1000;
  const longLivedTimeoutMs = resolveLongLivedTimeout((pick('longLivedTimeout') as number) * 1000, gracefulTimeoutMs, isSet(sources, 'longLivedTimeout'));
  return {
    appDir: sources.appDir,
    entry: (pick('entry') as string) || findEntry(sources.appDir),
    entryKind: sources.config.entryKind,
    port: pick('port') as number,
    host: pick('host') as string,
    workers: pick('workers') as number,
    gracefulTimeoutMs,
    longLivedTimeoutMs,
    bakeTimeMs: (pick('bakeTime') as number) * 1000,
    bootTimeoutMs: (pick('bootTimeout') as number) * 1000,
    timeoutMs: (pick('timeout') as number) * 1000,
    maxRequests: pick('maxRequests') as number,
    maxRequestsJitter: pick('maxRequestsJitter') as number,
    maxMemoryMb: pick('maxMemory') as number,
    ...resolveBinds(sources),
    trustProxy: resolveTrust(sources),
    configFile: sources.configFile,
  };
}

function resolveTrust(sources: SettingSources): TrustSetting {
  const parsed = parseTrust(sources.config.proxy?.trust);
  if (!parsed.ok) throw new UsageError(`invalid proxy.trust in ${path.basename(sources.configFile ?? 'fw.config.ts')}: ${parsed.message}`);
  return parsed.trust;
}

/** `--bind` (repeatable) beats `FW_BIND` (comma-separated) beats `bind` in fw.config.ts. */
function resolveBinds(sources: SettingSources): { bind: string[]; socketMode: number } {
  const fromEnv = sources.env.FW_BIND?.split(',').map((spec) => spec.trim()).filter(Boolean);
  const configBind = sources.config.bind;
  if (configBind !== undefined && (!Array.isArray(configBind) || configBind.some((spec) => typeof spec !== 'string'))) {
    throw new UsageError(`invalid bind in ${path.basename(sources.configFile ?? 'fw.config.ts')}: expected a list such as ['unix:/run/app.sock', '127.0.0.1:3000']`);
  }
  const bind = sources.flags.bind?.length ? sources.flags.bind : fromEnv?.length ? fromEnv : (configBind ?? []);
  const rawMode = sources.flags.socketMode ?? sources.env.FW_SOCKET_MODE ?? sources.config.socketMode;
  let socketMode = 0o660;
  if (rawMode !== undefined) {
    const text = typeof rawMode === 'number' ? rawMode.toString(8) : String(rawMode);
    if (!/^0?[0-7]{3}$/.test(text)) throw new UsageError(`invalid socket mode "${text}": expected an octal mode such as 660 or 666`);
    socketMode = Number.parseInt(text, 8);
  }
  return { bind, socketMode };
}
