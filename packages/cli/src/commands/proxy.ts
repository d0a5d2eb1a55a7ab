import { spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { defineCommand, type ArgsDef } from 'citty';
import {
  checkHaproxy,
  checkNginx,
  haproxyCommand,
  parseUpstream,
  rollingDeploy,
  saveServerStates,
  serverSessions,
  renderHaproxyConfig,
  renderNginxConfig,
  safeName,
  switchColors,
  writeAtomically,
  type Color,
  type Upstream,
} from '@fwjs/proxy';
import { controlRequest, runningMasterPid } from '@fwjs/runtime';
import { appPaths, isAlive } from '@fwjs/core';
import { appSettings, resolveAppDir } from '../app-context.js';
import { dirArg, rejectUnknownFlags, repeatedFlag } from '../args.js';
import type { Settings } from '../config/settings.js';
import { UsageError } from '../errors.js';

const COLORS: Color[] = ['blue', 'green'];
const colorSocket = (appDir: string, color: Color) => path.join(appPaths(appDir).fw, `${color}.sock`);

const common = {
  ...dirArg,
  listen: { type: 'string', description: 'What the proxy listens on: PORT or ADDRESS:PORT (default 8080)' },
  upstream: { type: 'string', description: 'An fw socket: unix:PATH or HOST:PORT; repeat for several (default: the app\'s own binds)' },
  'blue-green': { type: 'boolean', description: 'Upstreams are the blue and green sockets of `fw proxy switch`' },
  write: { type: 'string', description: 'Write the config to this file, atomically, instead of printing it' },
  check: { type: 'boolean', description: 'Validate the config with the proxy itself (nginx -t / haproxy -c)' },
} as const satisfies ArgsDef;

const nginxArgs = {
  ...common,
  'keepalive-timeout': { type: 'string', description: "Seconds nginx keeps idle upstream connections (default 4, below fw's)" },
} as const satisfies ArgsDef;

const nginx = defineCommand({
  meta: { name: 'nginx', description: "Print an nginx config (http context) for the app: keep-alive upstream, headers, safe retries" },
  args: nginxArgs,
  async run({ args, rawArgs }) {
    rejectUnknownFlags('proxy nginx', rawArgs, nginxArgs);
    const settings = await appSettings(args.dir, {});
    const keepalive = args['keepalive-timeout'] === undefined ? undefined : positiveSeconds('--keepalive-timeout', args['keepalive-timeout']);
    const config = renderNginxConfig({
      name: safeName(path.basename(settings.appDir)),
      listen: listenSpec(args.listen),
      upstreams: await upstreams(settings, rawArgs, args['blue-green'] === true),
      gracefulTimeoutS: settings.gracefulTimeoutMs / 1000,
      ...(keepalive === undefined ? {} : { upstreamKeepaliveS: keepalive }),
      source: settings.appDir,
    });
    await emit(config, args, (text) => checkNginx(text), 'nginx -t');
  },
});

const haproxyArgs = {
  ...common,
  'stats-socket': { type: 'string', description: 'HAProxy runtime API socket (default <dir>/.fw/haproxy.sock)' },
  'state-file': { type: 'string', description: 'Where server states survive reloads (default <dir>/.fw/haproxy.state)' },
} as const satisfies ArgsDef;

const haproxy = defineCommand({
  meta: { name: 'haproxy', description: 'Print a complete HAProxy config for the app: master-worker, idle-close-on-response, runtime API' },
  args: haproxyArgs,
  async run({ args, rawArgs }) {
    rejectUnknownFlags('proxy haproxy', rawArgs, haproxyArgs);
    const settings = await appSettings(args.dir, {});
    const blueGreen = args['blue-green'] === true;
    const targets = await upstreams(settings, rawArgs, blueGreen);
    const config = renderHaproxyConfig({
      name: safeName(path.basename(settings.appDir)),
      listen: listenSpec(args.listen, '*'),
      servers: targets.map((upstream, index) => ({
        name: blueGreen ? COLORS[index]! : `app${index + 1}`,
        upstream,
        disabled: blueGreen && index === 1,
      })),
      gracefulTimeoutS: settings.gracefulTimeoutMs / 1000,
      statsSocket: path.resolve(args['stats-socket'] ?? path.join(appPaths(settings.appDir).fw, 'haproxy.sock')),
      stateFile: path.resolve(args['state-file'] ?? path.join(appPaths(settings.appDir).fw, 'haproxy.state')),
      source: settings.appDir,
    });
    await emit(config, args, (text) => checkHaproxy(text), 'haproxy -c');
  },
});

const switchArgs = {
  ...dirArg,
  via: { type: 'string', description: 'nginx (both colors in one upstream) or haproxy (runtime API, no reload)' },
  'stats-socket': { type: 'string', description: 'HAProxy runtime API socket (default <dir>/.fw/haproxy.sock)' },
  'state-file': { type: 'string', description: "HAProxy's server-state-file, saved after the switch (default <dir>/.fw/haproxy.state)" },
  workers: { type: 'string', description: 'Workers of the new color' },
  'socket-mode': { type: 'string', description: 'File mode of the color sockets (default 660)' },
} as const satisfies ArgsDef;

const switchCommand = defineCommand({
  meta: {
    name: 'switch',
    description: 'Blue/green: start the idle color with the latest build, move traffic to it once it serves, then drain and stop the old one',
  },
  args: switchArgs,
  async run({ args, rawArgs }) {
    rejectUnknownFlags('proxy switch', rawArgs, switchArgs);
    const via = args.via ?? 'nginx';
    if (via !== 'nginx' && via !== 'haproxy') throw new UsageError(`invalid --via "${via}": expected nginx or haproxy`);
    const appDir = resolveAppDir(args.dir);
    const backend = `fw_${safeName(path.basename(appDir))}`;
    const statsSocket = path.resolve(args['stats-socket'] ?? path.join(appPaths(appDir).fw, 'haproxy.sock'));
    const stateFile = path.resolve(args['state-file'] ?? path.join(appPaths(appDir).fw, 'haproxy.state'));
    const haproxySet = async (color: Color, state: 'ready' | 'drain' | 'maint') => {
      const answer = await haproxyCommand(statsSocket, `set server ${backend}/${color} state ${state}`);
      if (answer) throw new Error(`HAProxy refused "set server ${backend}/${color} state ${state}": ${answer}`);
    };
    const result = await switchColors({
      liveColor: async () => {
        for (const color of COLORS) if (await runningMasterPid(appPaths(appDir, color).pidFile)) return color;
        return null;
      },
      start: (color) => startColor(appDir, color, args.workers, args['socket-mode']),
      // Through HAProxy the old color is in maintenance by then: no request will come on its idle
      // pooled connections, so its workers close them at once instead of waiting out their
      // keep-alive timeout. Through nginx both colors share the upstream until the old one stops.
      stop: (color) => stopInstance(appDir, color, via === 'haproxy'),
      route: async (to, from) => {
        if (via !== 'haproxy') return;
        await haproxySet(to, 'ready');
        // In maintenance the old color gets no new request; the ones on it finish.
        if (from) await haproxySet(from, 'maint');
        // A later HAProxy reload must keep this, not the states the config file started with.
        await saveServerStates(statsSocket, stateFile);
      },
      retire: async () => undefined,
      log: (line) => process.stdout.write(`[fw proxy switch] ${line}\n`),
    });
    process.stdout.write(`${result.to} serves ${colorSocket(appDir, result.to)}\n`);
  },
});

const rolloutArgs = {
  'stats-socket': { type: 'string', description: "HAProxy's runtime API socket" },
  backend: { type: 'string', description: 'The HAProxy backend the hosts are servers of, e.g. fw_myapp' },
  host: { type: 'string', description: 'SERVER=DIR: an HAProxy server name and the fw app folder it runs; repeat, in rollout order' },
  step: { type: 'string', description: 'What to run on each host: upgrade (a new master; default) or reload' },
} as const satisfies ArgsDef;

const rollout = defineCommand({
  meta: {
    name: 'rollout',
    description: 'Rolling deploy across hosts behind HAProxy: take one out, deploy (fw upgrade or reload), put it back, next',
  },
  args: rolloutArgs,
  async run({ args, rawArgs }) {
    rejectUnknownFlags('proxy rollout', rawArgs, rolloutArgs);
    if (!args['stats-socket']) throw new UsageError('fw proxy rollout needs --stats-socket PATH (HAProxy\'s runtime API)');
    if (!args.backend) throw new UsageError('fw proxy rollout needs --backend NAME (the backend the hosts are servers of)');
    const step = args.step ?? 'upgrade';
    if (step !== 'upgrade' && step !== 'reload') throw new UsageError(`invalid --step "${step}": expected upgrade or reload`);
    const hosts = repeatedFlag(rawArgs, 'host').map((spec) => {
      const match = /^([\w.-]+)=(.+)$/.exec(spec);
      if (!match) throw new UsageError(`invalid --host "${spec}": expected SERVER=DIR, e.g. web1=/srv/myapp`);
      return { server: match[1]!, dir: resolveAppDir(match[2]) };
    });
    if (hosts.length === 0) throw new UsageError('fw proxy rollout needs at least one --host SERVER=DIR');
    const statsSocket = path.resolve(args['stats-socket']);
    const backend = args.backend;
    const dirOf = new Map(hosts.map((host) => [host.server, host.dir]));
    const set = async (server: string, state: 'ready' | 'drain') => {
      const answer = await haproxyCommand(statsSocket, `set server ${backend}/${server} state ${state}`);
      if (answer) throw new Error(`HAProxy refused "set server ${backend}/${server} state ${state}": ${answer}`);
    };
    await rollingDeploy(hosts.map((host) => host.server), {
      takeOut: (server) => set(server, 'drain'),
      waitIdle: async (server) => {
        const deadline = Date.now() + 60_000;
        while ((await serverSessions(statsSocket, backend, server)) > 0) {
          if (Date.now() > deadline) throw new Error(`${server} still had requests in flight after 60 s`);
          await sleep(50);
        }
      },
      deploy: (server) => runFw([step, dirOf.get(server)!]),
      putBack: (server) => set(server, 'ready'),
      log: (line) => process.stdout.write(`[fw proxy rollout] ${line}\n`),
    });
  },
});

export default defineCommand({
  meta: { name: 'proxy', description: 'Front-proxy adapters: nginx and HAProxy configs, blue/green switches, rolling deploys' },
  subCommands: { nginx, haproxy, switch: switchCommand, rollout },
});

/** Runs this same fw on another command, passing its output through; rejects on failure. */
function runFw(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [process.argv[1]!, ...args], { stdio: 'inherit' });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`fw ${args.join(' ')} exited with code ${code}`))));
  });
}

async function upstreams(settings: Settings, rawArgs: string[], blueGreen: boolean): Promise<Upstream[]> {
  if (blueGreen) return COLORS.map((color) => ({ kind: 'unix', path: colorSocket(settings.appDir, color) }));
  let specs = repeatedFlag(rawArgs, 'upstream');
  if (specs.length === 0) {
    // The app's own binds: the running master's, else what fw start would bind.
    const running = await controlRequest(appPaths(settings.appDir).controlSocket, { command: 'status' }, 2_000).catch(() => null);
    if (running?.command === 'status' && running.ok) specs = running.status.binds;
    else specs = settings.bind.length ? settings.bind : [`${settings.host === '0.0.0.0' ? '127.0.0.1' : settings.host}:${settings.port}`];
  }
  return specs.map((spec) => {
    const upstream = parseUpstream(spec);
    if (!upstream) throw new UsageError(`invalid --upstream "${spec}": expected unix:PATH or HOST:PORT`);
    return upstream.kind === 'unix' ? { ...upstream, path: path.resolve(settings.appDir, upstream.path) } : upstream;
  });
}

function listenSpec(value: string | undefined, anyHost?: string): string {
  const spec = value ?? '8080';
  if (/^\d{1,5}$/.test(spec)) return anyHost ? `${anyHost}:${spec}` : spec;
  if (/^(\[[0-9a-fA-F:]+\]|[\w.-]+|\*):\d{1,5}$/.test(spec)) return spec;
  throw new UsageError(`invalid --listen "${spec}": expected PORT or ADDRESS:PORT, e.g. 8080 or 127.0.0.1:8080`);
}

function positiveSeconds(flag: string, value: string): number {
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new UsageError(`invalid ${flag} "${value}": expected seconds above 0`);
  return seconds;
}

async function emit(
  config: string,
  args: { write?: string | undefined; check?: boolean | undefined },
  check: (text: string) => Promise<{ ok: boolean; output: string }>,
  checkName: string,
): Promise<void> {
  if (args.check) {
    const result = await check(config);
    if (!result.ok) {
      process.stderr.write(`fw: ${checkName} rejected the config:\n${result.output}\n`);
      process.exitCode = 1;
      return;
    }
  }
  if (args.write) {
    await writeAtomically(path.resolve(args.write), config);
    process.stdout.write(`wrote ${args.write}${args.check ? ` (${checkName}: ok)` : ''}\n`);
  } else {
    process.stdout.write(config);
  }
}

/** Starts `fw start --instance COLOR` in the background and waits until it serves. */
async function startColor(appDir: string, color: Color, workers: string | undefined, socketMode: string | undefined): Promise<void> {
  const paths = appPaths(appDir, color);
  const logFile = path.join(paths.fw, `${color}.log`);
  const args = [process.argv[1]!, 'start', appDir, '--instance', color, '--bind', `unix:${colorSocket(appDir, color)}`];
  if (workers) args.push('--workers', workers);
  if (socketMode) args.push('--socket-mode', socketMode);
  const out = openSync(logFile, 'a');
  const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', out, out], cwd: process.cwd() });
  let exited: number | null = null;
  child.once('exit', (code) => {
    exited = code ?? 1;
  });
  child.unref();
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (exited !== null) {
      const log = await readFile(logFile, 'utf8').catch(() => '');
      throw new Error(`${color} did not start (exit code ${exited}); the old color keeps serving. Its log (${logFile}):\n${log.split('\n').slice(-20).join('\n')}`);
    }
    const status = await controlRequest(paths.controlSocket, { command: 'status' }, 2_000).catch(() => null);
    if (status?.command === 'status' && status.ok && status.status.generation !== null) return;
    await sleep(100);
  }
  throw new Error(`${color} was not serving after 120 s; see ${logFile}`);
}

async function stopInstance(appDir: string, color: Color, closeIdle: boolean): Promise<void> {
  const paths = appPaths(appDir, color);
  const pid = await runningMasterPid(paths.pidFile);
  if (pid === null) return;
  await controlRequest(paths.controlSocket, { command: 'stop', closeIdle }, 10_000);
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return;
    await sleep(50);
  }
  throw new Error(`${color} (pid ${pid}) did not stop within 180 s`);
}
