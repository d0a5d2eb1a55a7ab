#!/usr/bin/env node
// What does each kind of reload cost behind a front proxy?
//
// A copy of apps/example runs under `fw start` (2 workers) on unix sockets, behind a real nginx and
// a real HAProxy whose configs come only from `fw proxy nginx` / `fw proxy haproxy`. A keep-alive
// load that never retries (32 undici Clients, pipelining 1, back-to-back GET /) counts every
// request (ok, non-2xx by status, errors by code) while these events happen one after another:
//
//   nginx    1a  5× edit + fw build + `fw reload`            (fw drains behind the socket)
//            1b  5× `nginx -s reload` (SIGHUP to the nginx master)
//            1c  3× `fw proxy switch --via nginx` (config with --blue-green: both colors, one upstream)
//   HAProxy  2a  5× edit + fw build + `fw reload --instance blue` (after a first switch started blue)
//            2b  5× seamless reload (SIGUSR2 to the master, -W) with the generated config, which has
//                `option idle-close-on-response`; then 5× with that line removed from a copy
//            2c  3× `fw proxy switch --via haproxy` (runtime API, no reload)
//            2d  1× seamless reload while green is the live color (what a later reload does to a switch)
//
// Every event gets its own window: from just before it (edit and build included) until what it set
// off is over (old workers exited) plus a 1 s settle; the windows are contiguous, so every request
// of the load falls into one of them. A 3 s window with no event opens each load, as a control.
//
// Usage: node bench/proxy-reloads.mjs            (about 4.5 minutes on 2 shared cores; most of it
//        is the HAProxy blue/green switches, ~35 s each)
//        PROXY_BENCH_APPEND=1 node bench/proxy-reloads.mjs   keeps earlier runs in the JSON (runs[])
//        PROXY_BENCH_ONLY=nginx-bg,haproxy-bg node bench/proxy-reloads.mjs   a subset (nginx, nginx-bg,
//        haproxy, haproxy-bg); its JSON goes to the temp dir, never over the reference results
// Prints markdown tables to stdout (progress goes to stderr); writes bench/results/proxy-reloads.json.
// Needs nginx and HAProxy on PATH or in /usr/sbin; listens on 127.0.0.1 only. Every process it
// starts runs in its own process group and is killed by group at the end, also on Ctrl-C.

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Client } from 'undici';
import { wrapNginx } from '@fwjs/proxy';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const fwBin = path.join(repoRoot, 'packages', 'cli', 'bin', 'fw.js');
const exampleDir = path.join(repoRoot, 'apps', 'example');
const scratchRoot = path.join(repoRoot, 'test', '.tmp');
/** PROXY_BENCH_ONLY=nginx,nginx-bg,haproxy,haproxy-bg runs a subset; its JSON goes to the temp dir. */
const only = new Set((process.env.PROXY_BENCH_ONLY ?? '').split(',').map((part) => part.trim()).filter(Boolean));
const resultFile = only.size
  ? path.join(os.tmpdir(), 'proxy-reloads.partial.json')
  : path.join(repoRoot, 'bench', 'results', 'proxy-reloads.json');

const CONNECTIONS = 32;
const WORKERS = 2;
const SETTLE_MS = 1_000;
const CONTROL_MS = 3_000;
const quiet = { ...process.env, LOG_LEVEL: 'warn' };
/** Errors that mean the peer closed a connection a request was on. */
const RESET_CODES = new Set(['ECONNRESET', 'UND_ERR_SOCKET', 'EPIPE']);

const log = (line) => process.stderr.write(`[proxy-reloads] ${line}\n`);
const binary = (name) => {
  for (const candidate of [name, `/usr/sbin/${name}`]) {
    try {
      execFileSync(candidate, ['-v'], { stdio: 'ignore' });
      return candidate;
    } catch {
      // next
    }
  }
  throw new Error(`${name} is not installed (apt-get install ${name})`);
};
const NGINX = binary('nginx');
const HAPROXY = binary('haproxy');

// ───────────────────────────────────────────────────────── processes ──

/** Everything started here, each the leader of its own process group. */
const groups = new Map(); // pid -> { name, exited: Promise }
const tempDirs = new Set();
let appDir;

function startGroup(name, command, args, options = {}) {
  const child = spawn(command, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: quiet, cwd: repoRoot, ...options });
  let output = '';
  const timeline = [];
  const listeners = new Set();
  const onData = (chunk) => {
    const text = chunk.toString();
    for (const line of text.split('\n')) if (line.trim()) timeline.push([Date.now(), line]);
    output += text;
    for (const listener of listeners) listener();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  let exitCode = null;
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      exitCode = code ?? signal;
      groups.delete(child.pid);
      for (const listener of listeners) listener();
      resolve(exitCode);
    });
    child.once('error', (error) => {
      exitCode = error.code;
      groups.delete(child.pid);
      resolve(exitCode);
    });
  });
  if (child.pid) groups.set(child.pid, { name, exited });
  const proc = {
    pid: child.pid,
    name,
    exited,
    output: () => output,
    /** [arrival time, line] of every output line. */
    timeline: () => timeline,
    hasExited: () => exitCode !== null,
    /** Resolves with the first match of `pattern` in the output (from `from` on); bounded. */
    waitFor: (pattern, timeoutMs, from = 0) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const match = output.slice(from).match(pattern);
          if (match) done(() => resolve(match));
          else if (exitCode !== null) done(() => reject(new Error(`${name} exited (${exitCode}) before printing ${pattern}:\n${output.slice(-3000)}`)));
        };
        const timer = setTimeout(() => done(() => reject(new Error(`${name}: no ${pattern} within ${timeoutMs} ms:\n${output.slice(-3000)}`))), timeoutMs);
        const done = (settle) => {
          clearTimeout(timer);
          listeners.delete(check);
          settle();
        };
        listeners.add(check);
        check();
      }),
    kill: () => killGroup(child.pid, exited),
  };
  return proc;
}

async function killGroup(pid, exited) {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // gone
  }
  if (exited) await Promise.race([exited, sleep(5_000)]);
}

/** Runs an fw command to completion in its own group, killed by group after `timeoutMs`. */
async function fw(args, { timeoutMs = 60_000, expectOk = true } = {}) {
  const startedAt = Date.now();
  const proc = startGroup(`fw ${args[0]}`, process.execPath, [fwBin, ...args]);
  const timer = setTimeout(() => proc.kill(), timeoutMs);
  const code = await proc.exited;
  clearTimeout(timer);
  const ms = Date.now() - startedAt;
  if (expectOk && code !== 0) throw new Error(`fw ${args.join(' ')} failed (${code}, ${ms} ms):\n${proc.output().slice(-3000)}`);
  return { code, ms, output: proc.output(), timeline: proc.timeline() };
}

/** Pids whose parent is `pid` and that are not zombies. */
function childrenOf(pid) {
  const pids = [];
  let tasks = [];
  try {
    tasks = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return pids;
  }
  for (const task of tasks) {
    try {
      for (const child of fs.readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim().split(/\s+/)) {
        if (!child) continue;
        const stat = fs.readFileSync(`/proc/${child}/stat`, 'utf8');
        if (stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z') pids.push(Number(child));
      }
    } catch {
      // raced with an exit
    }
  }
  return pids;
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

async function until(check, timeoutMs, intervalMs = 50) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(intervalMs);
  }
  return false;
}

async function freePort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function waitForPort(port, proc) {
  const ok = await until(
    () =>
      !proc.hasExited() &&
      new Promise((resolve) => {
        const socket = net.connect(port, '127.0.0.1');
        socket.once('connect', () => {
          socket.destroy();
          resolve(true);
        });
        socket.once('error', () => resolve(false));
      }),
    15_000,
  );
  if (!ok) throw new Error(`${proc.name} did not listen on 127.0.0.1:${port} within 15 s:\n${proc.output().slice(-3000)}`);
}

// ─────────────────────────────────────────────────────────────── app ──

async function copyExampleApp() {
  const dir = path.join(scratchRoot, `proxy-bench-${randomBytes(3).toString('hex')}`);
  await mkdir(scratchRoot, { recursive: true });
  tempDirs.add(dir);
  await cp(exampleDir, dir, { recursive: true, filter: (source) => !/[/\\](node_modules|\.fw|test)$/.test(source) });
  const tsconfig = path.join(dir, 'tsconfig.json');
  const base = path.relative(dir, path.join(repoRoot, 'tsconfig.base.json'));
  await writeFile(tsconfig, (await readFile(tsconfig, 'utf8')).replace('../../tsconfig.base.json', base));
  return dir;
}

async function deploy(version) {
  const file = path.join(appDir, 'src', 'app.ts');
  const text = await readFile(file, 'utf8');
  const next = text.replace(/export const VERSION = '[^']*';/, `export const VERSION = '${version}';`);
  if (next === text && !text.includes(`'${version}'`)) throw new Error('could not set the version in src/app.ts');
  await writeFile(file, next);
  await fw(['build', appDir]);
}

const colorPidFile = (color) => path.join(appDir, '.fw', `master-${color}.pid`);
const colorLog = (color) => path.join(appDir, '.fw', `${color}.log`);
/** Color masters started by `fw proxy switch` (each leads its own group); killed at the end. */
const colorMasters = new Set();
async function noteColorMasters() {
  for (const color of ['blue', 'green']) {
    const pid = Number((await readFile(colorPidFile(color), 'utf8').catch(() => '')).trim());
    if (pid > 0) colorMasters.add(pid);
  }
}

/** How many workers a master's log says exited or were killed so far. */
const exitedWorkers = (text) => (text.match(/\) exited \(|killed: drain/g) ?? []).length;

// ────────────────────────────────────────────────────────────── load ──

/** The keep-alive load: never retries; logs the time and version of every ok answer. */
function startLoad(origin) {
  const counts = { ok: 0, failed: 0, statuses: {}, errors: {}, connectionsOpened: 0 };
  const answerAt = [];
  const answerVersion = [];
  const versionIds = new Map();
  const versionNames = [];
  let running = true;
  const clients = Array.from(
    { length: CONNECTIONS },
    () => new Client(origin, { pipelining: 1, connect: { timeout: 5_000 }, headersTimeout: 10_000, bodyTimeout: 10_000 }),
  );
  for (const client of clients) client.on('connect', () => counts.connectionsOpened++);
  const loop = async (client) => {
    while (running) {
      try {
        const response = await client.request({ method: 'GET', path: '/' });
        const text = await response.body.text();
        if (response.statusCode >= 200 && response.statusCode < 300) {
          counts.ok++;
          let version = '?';
          try {
            version = JSON.parse(text).version ?? '?';
          } catch {
            // not JSON
          }
          let id = versionIds.get(version);
          if (id === undefined) {
            id = versionNames.length;
            versionIds.set(version, id);
            versionNames.push(version);
          }
          answerAt.push(Date.now());
          answerVersion.push(id);
        } else {
          counts.failed++;
          counts.statuses[response.statusCode] = (counts.statuses[response.statusCode] ?? 0) + 1;
        }
      } catch (error) {
        if (!running && error?.code === 'UND_ERR_DESTROYED') return;
        counts.failed++;
        const code = error?.code ?? error?.name ?? 'unknown';
        counts.errors[code] = (counts.errors[code] ?? 0) + 1;
      }
    }
  };
  const loops = clients.map(loop);
  const index = (t) => {
    // first answer at or after t
    let lo = 0;
    let hi = answerAt.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (answerAt[mid] < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  return {
    snapshot: () => ({ at: Date.now(), ...structuredClone(counts) }),
    /** Answers of `version` in [from, to), their first and last times. */
    answers(version, from = 0, to = Infinity) {
      const id = versionIds.get(version);
      let count = 0;
      let first = null;
      let last = null;
      if (id === undefined) return { count, first, last };
      for (let i = index(from); i < answerAt.length && answerAt[i] < to; i++) {
        if (answerVersion[i] !== id) continue;
        count++;
        first ??= answerAt[i];
        last = answerAt[i];
      }
      return { count, first, last };
    },
    /** The longest time in [from, to) without any ok answer. */
    maxGap(from, to) {
      let previous = from;
      let gap = 0;
      for (let i = index(from); i < answerAt.length && answerAt[i] < to; i++) {
        gap = Math.max(gap, answerAt[i] - previous);
        previous = answerAt[i];
      }
      return Math.max(gap, to - previous);
    },
    async waitForVersion(version, timeoutMs) {
      const ok = await until(() => versionIds.has(version), timeoutMs, 20);
      if (!ok) throw new Error(`no answer from version ${version} within ${timeoutMs} ms (${JSON.stringify(counts)})`);
      return this.answers(version).first;
    },
    async stop() {
      running = false;
      await Promise.race([Promise.all(loops), sleep(15_000)]);
      await Promise.all(clients.map((client) => client.destroy().catch(() => undefined)));
      return structuredClone(counts);
    },
  };
}

function windowOf(load, before, after) {
  const statuses = {};
  for (const [status, n] of Object.entries(after.statuses)) {
    const d = n - (before.statuses[status] ?? 0);
    if (d) statuses[status] = d;
  }
  const errors = {};
  for (const [code, n] of Object.entries(after.errors)) {
    const d = n - (before.errors[code] ?? 0);
    if (d) errors[code] = d;
  }
  return {
    windowMs: after.at - before.at,
    ok: after.ok - before.ok,
    failed: after.failed - before.failed,
    statuses,
    errors,
    resets: Object.entries(errors).reduce((sum, [code, n]) => sum + (RESET_CODES.has(code) ? n : 0), 0),
    reconnects: after.connectionsOpened - before.connectionsOpened,
    maxGapMs: load.maxGap(before.at, after.at),
  };
}

const events = [];
/** Runs one event in its own window (prep included) and records it. */
/** The running proxy's log (nginx's error.log, HAProxy's output), for each event's window. */
let proxyLog = null;
async function measure(load, scenario, index, run, { logs = proxyLog } = {}) {
  const logFrom = logs ? (await logs()).length : 0;
  const before = load.snapshot();
  const detail = (await run()) ?? {};
  await sleep(SETTLE_MS);
  const after = load.snapshot();
  const event = { scenario, index, ...detail, ...windowOf(load, before, after) };
  if (logs) event.proxyLog = summarizeLog((await logs()).slice(logFrom));
  events.push(event);
  const errs = Object.entries(event.errors).map(([c, n]) => `${c}×${n}`).join(' ');
  const sts = Object.entries(event.statuses).map(([c, n]) => `${c}×${n}`).join(' ');
  log(`${scenario} #${index}: ok ${event.ok}, failed ${event.failed}${errs ? ` (${errs})` : ''}${sts ? ` [${sts}]` : ''}, reconnects ${event.reconnects}, action ${event.actionMs ?? '-'} ms, done ${event.doneMs ?? '-'} ms`);
  return event;
}

/** A proxy's log lines, without time, pids and connection numbers, counted: what went wrong, how often. */
function summarizeLog(text) {
  const counts = new Map();
  for (const raw of text.split('\n')) {
    if (!raw.trim()) continue;
    const line = raw
      .replace(/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d /, '')
      .replace(/^\[(\w+)\] +\(\d+\) : /, '[$1] ')
      .replace(/\d+#\d+: (\*\d+ )?/, '')
      .replace(/, client: .*?(, upstream: "([^"]*)")?, host: .*$/, (_, __, upstream) => (upstream ? `, upstream: ${upstream}` : ''))
      .replace(/\b(pid|worker) \d+/gi, '$1 N')
      .replace(/\(\d+\)/g, '(N)');
    counts.set(line, (counts.get(line) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([line, n]) => `${n}× ${line}`);
}

async function control(load, scenario) {
  return measure(load, `${scenario} (control: no event)`, 0, async () => {
    await sleep(CONTROL_MS - SETTLE_MS);
    return { control: true };
  });
}

// ──────────────────────────────────────────────────────────── proxies ──

async function startNginx(snippetFile, port) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fw-bench-nginx-'));
  tempDirs.add(dir);
  await mkdir(path.join(dir, 'logs'));
  await writeFile(path.join(dir, 'nginx.conf'), wrapNginx(dir, snippetFile));
  const proc = startGroup('nginx', NGINX, ['-p', dir, '-c', path.join(dir, 'nginx.conf')]);
  await waitForPort(port, proc);
  return { ...proc, dir };
}

async function startHaproxy(configFile, port) {
  const proc = startGroup('haproxy', HAPROXY, ['-W', '-db', '-f', configFile]);
  await waitForPort(port, proc);
  // The master is up once it has a worker.
  await until(() => childrenOf(proc.pid).length > 0, 10_000);
  return proc;
}

/** Signals a proxy master and waits until its old workers are gone and a new one runs. */
async function reloadProxy(proc, signal) {
  const old = childrenOf(proc.pid);
  const startedAt = Date.now();
  process.kill(proc.pid, signal);
  const done = await until(() => {
    const now = childrenOf(proc.pid);
    return now.length > 0 && now.some((pid) => !old.includes(pid)) && old.every((pid) => !now.includes(pid) || !alive(pid));
  }, 20_000);
  if (proc.hasExited()) throw new Error(`${proc.name} exited on ${signal}:\n${proc.output().slice(-3000)}`);
  return { actionMs: 0, doneMs: done ? Date.now() - startedAt : null, oldWorkersGone: done };
}

// ─────────────────────────────────────────────────────────── scenarios ──

async function fwReload(load, scenario, index, version, { instance, masterOutput }) {
  return measure(load, scenario, index, async () => {
    await deploy(version);
    const exitedBefore = exitedWorkers(await masterOutput());
    const startedAt = Date.now();
    const reloaded = await fw(['reload', appDir, ...(instance ? ['--instance', instance] : [])], { timeoutMs: 60_000 });
    const actionMs = Date.now() - startedAt;
    const firstNew = await load.waitForVersion(version, 15_000);
    // The old generation drains behind the socket; the event ends when both of its workers exited.
    const drained = await until(async () => exitedWorkers(await masterOutput()) >= exitedBefore + WORKERS, 30_000, 100);
    const readyMs = Number(/ready in (\d+) ms/.exec(reloaded.output)?.[1] ?? NaN);
    return { version, actionMs, readyMs, firstNewAnswerMs: firstNew - startedAt, doneMs: drained ? Date.now() - startedAt : null, oldWorkersExited: drained };
  });
}

async function blueGreenSwitch(load, scenario, index, version, oldVersion, switchArgs) {
  let startedAt;
  let returnedAt;
  const event = await measure(load, scenario, index, async () => {
    await deploy(version);
    startedAt = Date.now();
    const switched = await fw(['proxy', 'switch', appDir, ...switchArgs, '--workers', String(WORKERS), '--socket-mode', '666'], { timeoutMs: 120_000 });
    returnedAt = Date.now();
    await noteColorMasters();
    // The window lasts until the new version answers through the proxy (bounded), so an outage
    // after the switch returned is counted in it.
    const answered = await load.waitForVersion(version, 15_000).catch(() => null);
    const line = /(\w+) serves; (\w+) stopped \((\d+) ms\)/.exec(switched.output);
    const ready = /starting (\w+)/.exec(switched.output);
    const at = (pattern) => switched.timeline.find(([, text]) => pattern.test(text))?.[0] ?? null;
    const readyAt = at(/is ready; moving traffic/);
    const drainAt = at(/draining and stopping/);
    const doneAt = at(/ serves(;| \/)/);
    return {
      newColorReadyMs: readyAt && readyAt - startedAt,
      oldColorStopMs: drainAt && doneAt && doneAt - drainAt,
      version,
      from: line?.[2] ?? null,
      to: line?.[1] ?? ready?.[1] ?? null,
      actionMs: returnedAt - startedAt,
      reportedMs: line ? Number(line[3]) : null,
      newVersionAnsweredAfterReturnMs: answered === null ? null : Math.max(0, answered - returnedAt),
      doneMs: returnedAt - startedAt,
    };
  });
  // Which versions answered around the switch.
  const fresh = load.answers(version, startedAt);
  const stale = load.answers(oldVersion, startedAt);
  const staleAfterFirstNew = fresh.first === null ? null : load.answers(oldVersion, fresh.first).count;
  Object.assign(event, {
    firstNewAnswerMs: fresh.first === null ? null : fresh.first - startedAt,
    lastOldAnswerMs: stale.last === null ? null : stale.last - startedAt,
    /** Answers of the old version after the new one had answered: both versions served meanwhile. */
    oldAnswersAfterFirstNew: staleAfterFirstNew,
    mixedMs: fresh.first !== null && stale.last !== null ? Math.max(0, stale.last - fresh.first) : 0,
    /** Answers of the old version after `fw proxy switch` returned (its old color has exited). */
    oldAnswersAfterReturn: load.answers(oldVersion, returnedAt).count,
  });
  log(`  ${scenario} #${index}: ${event.from} → ${event.to}, old answers after the first new one ${event.oldAnswersAfterFirstNew} (over ${event.mixedMs} ms), after return ${event.oldAnswersAfterReturn}`);
  return event;
}

async function nginxSingle() {
  // 1a + 1b: one fw master on a unix socket behind nginx.
  const socket = path.join(appDir, '.fw', 'app.sock');
  const master = startGroup('fw start', process.execPath, [fwBin, 'start', appDir, '--bind', `unix:${socket}`, '--socket-mode', '666', '--workers', String(WORKERS)]);
  await master.waitFor(/serving unix:/, 60_000);
  const port = await freePort();
  const conf = path.join(appDir, '.fw', 'nginx-app.conf');
  const written = await fw(['proxy', 'nginx', appDir, '--listen', `127.0.0.1:${port}`, '--upstream', `unix:${socket}`, '--write', conf, '--check']);
  if (!/nginx -t: ok/.test(written.output)) throw new Error(`fw proxy nginx --check did not report ok:\n${written.output}`);
  const nginx = await startNginx(conf, port);
  proxyLog = () => readFile(path.join(nginx.dir, 'error.log'), 'utf8').catch(() => '');
  log(`nginx (pid ${nginx.pid}) on 127.0.0.1:${port} → ${socket}`);
  const load = startLoad(`http://127.0.0.1:${port}`);
  await load.waitForVersion('v1', 15_000);
  await sleep(1_000);
  await control(load, 'nginx');
  for (let i = 1; i <= 5; i++) {
    await fwReload(load, 'nginx: fw reload', i, `nginx-reload-${i}`, { masterOutput: async () => master.output() });
  }
  for (let i = 1; i <= 5; i++) {
    await measure(load, 'nginx: nginx -s reload (SIGHUP)', i, () => reloadProxy(nginx, 'SIGHUP'));
  }
  await load.stop();
  await nginx.kill();
  await master.kill();
}

async function nginxBlueGreen() {
  // 1c: blue/green through nginx: both color sockets in one upstream.
  await deploy('nginx-bg-0');
  const bgPort = await freePort();
  const bgConf = path.join(appDir, '.fw', 'nginx-bg.conf');
  await fw(['proxy', 'nginx', appDir, '--blue-green', '--listen', `127.0.0.1:${bgPort}`, '--write', bgConf, '--check']);
  const nginx = await startNginx(bgConf, bgPort);
  proxyLog = () => readFile(path.join(nginx.dir, 'error.log'), 'utf8').catch(() => '');
  await fw(['proxy', 'switch', appDir, '--via', 'nginx', '--workers', String(WORKERS), '--socket-mode', '666'], { timeoutMs: 120_000 });
  await noteColorMasters();
  const load = startLoad(`http://127.0.0.1:${bgPort}`);
  await load.waitForVersion('nginx-bg-0', 15_000);
  await sleep(1_000);
  await control(load, 'nginx blue/green');
  for (let i = 1; i <= 3; i++) {
    await blueGreenSwitch(load, 'nginx: fw proxy switch', i, `nginx-bg-${i}`, `nginx-bg-${i - 1}`, ['--via', 'nginx']);
  }
  await load.stop();
  await nginx.kill();
  await stopColors();
}

/** The HAProxy config (`fw proxy haproxy --blue-green`) and a copy without idle-close-on-response. */
async function haproxySetup() {
  const port = await freePort();
  const conf = path.join(appDir, '.fw', 'haproxy.cfg');
  const statsSocket = path.join(appDir, '.fw', 'haproxy.sock');
  const written = await fw(['proxy', 'haproxy', appDir, '--blue-green', '--listen', `127.0.0.1:${port}`, '--stats-socket', statsSocket, '--write', conf, '--check']);
  if (!/haproxy -c: ok/.test(written.output)) throw new Error(`fw proxy haproxy --check did not report ok:\n${written.output}`);
  const generated = await readFile(conf, 'utf8');
  if (!generated.includes('option idle-close-on-response')) throw new Error('the generated HAProxy config lacks option idle-close-on-response');
  const bare = path.join(appDir, '.fw', 'haproxy-no-idle-close.cfg');
  await writeFile(bare, generated.split('\n').filter((line) => line.trim() !== 'option idle-close-on-response').join('\n'));
  execFileSync(HAPROXY, ['-c', '-q', '-f', bare], { stdio: 'ignore', timeout: 20_000 });
  return {
    port,
    conf,
    bare,
    url: `http://127.0.0.1:${port}`,
    switchArgs: ['--via', 'haproxy', '--stats-socket', statsSocket],
    /** The version now live. */
    live: null,
    async start(file) {
      const proc = await startHaproxy(file, port);
      proxyLog = async () => proc.output();
      log(`haproxy (master pid ${proc.pid}, ${path.basename(file)}) on 127.0.0.1:${port}`);
      return proc;
    },
    /** The first switch starts blue (nothing runs yet). */
    async firstSwitch(version) {
      await deploy(version);
      await fw(['proxy', 'switch', appDir, ...this.switchArgs, '--workers', String(WORKERS), '--socket-mode', '666'], { timeoutMs: 120_000 });
      await noteColorMasters();
      this.live = version;
    },
  };
}

async function haproxyReloads(ha) {
  // 2a: fw reloads of the live color (blue), behind HAProxy.
  let haproxy = await ha.start(ha.conf);
  await ha.firstSwitch('ha-0');
  let load = startLoad(ha.url);
  await load.waitForVersion(ha.live, 15_000);
  await sleep(1_000);
  await control(load, 'haproxy');
  const blueLog = () => readFile(colorLog('blue'), 'utf8').catch(() => '');
  for (let i = 1; i <= 5; i++) {
    await fwReload(load, 'haproxy: fw reload --instance blue', i, `ha-reload-${i}`, { instance: 'blue', masterOutput: blueLog });
    ha.live = `ha-reload-${i}`;
  }
  // 2b: seamless HAProxy reloads with the generated config (idle-close-on-response).
  for (let i = 1; i <= 5; i++) {
    await measure(load, 'haproxy: reload (SIGUSR2), generated config', i, () => reloadProxy(haproxy, 'SIGUSR2'));
  }
  await load.stop();
  await haproxy.kill();

  // 2b': the same without option idle-close-on-response (blue is live, as that config starts it).
  haproxy = await ha.start(ha.bare);
  load = startLoad(ha.url);
  await load.waitForVersion(ha.live, 15_000);
  await sleep(1_000);
  await control(load, 'haproxy without idle-close-on-response');
  for (let i = 1; i <= 5; i++) {
    await measure(load, 'haproxy: reload (SIGUSR2), without idle-close-on-response', i, () => reloadProxy(haproxy, 'SIGUSR2'));
  }
  await load.stop();
  await haproxy.kill();
}

async function haproxyBlueGreen(ha) {
  // 2c: blue/green switches through the runtime API (no HAProxy reload).
  const haproxy = await ha.start(ha.conf);
  if (!ha.live) await ha.firstSwitch('ha-0');
  const load = startLoad(ha.url);
  await load.waitForVersion(ha.live, 15_000);
  await sleep(1_000);
  await control(load, 'haproxy blue/green');
  for (let i = 1; i <= 3; i++) {
    await blueGreenSwitch(load, 'haproxy: fw proxy switch', i, `ha-bg-${i}`, ha.live, ha.switchArgs);
    ha.live = `ha-bg-${i}`;
  }
  // 2d: green is live now, but the config still says `server green ... disabled`. The window runs
  // 3 s past the reload: does traffic recover by itself?
  const afterReload = await measure(load, 'haproxy: reload (SIGUSR2) while green is live', 1, async () => {
    const reloaded = await reloadProxy(haproxy, 'SIGUSR2');
    await sleep(2_000);
    const last = load.snapshot();
    await sleep(1_000);
    const end = load.snapshot();
    return { ...reloaded, lastSecond: { ok: end.ok - last.ok, failed: end.failed - last.failed } };
  });
  log(`  in its last second: ${JSON.stringify(afterReload.lastSecond)}`);
  await load.stop();
  await haproxy.kill();
  await stopColors();
}

/** Stops both colors (fw stop --force: no drain needed, the load is over), then kills their groups. */
async function stopColors() {
  await noteColorMasters();
  for (const color of ['blue', 'green']) {
    const pid = Number((await readFile(colorPidFile(color), 'utf8').catch(() => '')).trim());
    if (pid > 0 && alive(pid)) await fw(['stop', appDir, '--instance', color, '--force', '--timeout', '20'], { timeoutMs: 30_000, expectOk: false });
  }
  for (const pid of colorMasters) {
    await killGroup(pid);
    await until(() => !alive(pid), 5_000);
    colorMasters.delete(pid);
  }
}

// ─────────────────────────────────────────────────────────────── report ──

const median = (values) => {
  const sorted = values.filter((v) => typeof v === 'number' && Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : Math.round((sorted[mid - 1] + sorted[mid]) / 2);
};
const range = (values) => {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x));
  if (v.length === 0) return '–';
  return `${median(v)} (${Math.min(...v)}–${Math.max(...v)})`;
};
const sumCounts = (list, key) => {
  const total = {};
  for (const e of list) for (const [k, n] of Object.entries(e[key])) total[k] = (total[k] ?? 0) + n;
  return Object.entries(total).map(([k, n]) => `${k}×${n}`).join(', ') || '–';
};

function report(list) {
  const scenarios = [...new Set(list.map((e) => e.scenario))];
  const lines = [
    '| scenario | events | failed per event | errors (all events) | non-2xx (all events) | client reconnects per event | action ms, median (range) | until old processes gone, ms | longest gap without an ok answer, ms | ok answers |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const scenario of scenarios) {
    const rows = list.filter((e) => e.scenario === scenario);
    lines.push(
      `| ${scenario} | ${rows.length} | ${rows.map((e) => e.failed).join(', ')} | ${sumCounts(rows, 'errors')} | ${sumCounts(rows, 'statuses')} | ${rows.map((e) => e.reconnects).join(', ')} | ${range(rows.map((e) => e.actionMs))} | ${range(rows.map((e) => e.doneMs))} | ${range(rows.map((e) => e.maxGapMs))} | ${rows.reduce((s, e) => s + e.ok, 0)} |`,
    );
  }
  const switches = list.filter((e) => 'oldAnswersAfterReturn' in e);
  lines.push(
    '',
    '| switch | from → to | switch ms (fw reported) | new color ready after, ms | old color stop took, ms | failed | first new answer after, ms | old answers after the first new one (over ms) | old answers after the switch returned | longest gap without an ok answer, ms |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  );
  for (const e of switches) {
    lines.push(
      `| ${e.scenario} #${e.index} | ${e.from} → ${e.to} | ${e.actionMs} (${e.reportedMs}) | ${e.newColorReadyMs} | ${e.oldColorStopMs} | ${e.failed} | ${e.firstNewAnswerMs} | ${e.oldAnswersAfterFirstNew} (${e.mixedMs}) | ${e.oldAnswersAfterReturn} | ${e.maxGapMs} |`,
    );
  }
  return lines.join('\n');
}

// ───────────────────────────────────────────────────────────────── main ──

let cleaning;
async function cleanup() {
  cleaning ??= (async () => {
    if (appDir) await noteColorMasters().catch(() => undefined);
    for (const pid of colorMasters) await killGroup(pid);
    for (const [pid, { exited }] of [...groups]) await killGroup(pid, exited);
    // Anything still running from the app copy (there should be nothing) is reported and killed.
    const leftovers = [];
    if (appDir) {
      for (const name of fs.readdirSync('/proc')) {
        if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
        try {
          if (fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(appDir)) leftovers.push(Number(name));
        } catch {
          // gone
        }
      }
    }
    for (const pid of leftovers) {
      log(`left over: pid ${pid}; killing it`);
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    for (const dir of tempDirs) await rm(dir, { recursive: true, force: true });
    return leftovers;
  })();
  return cleaning;
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    log(`${signal}: cleaning up`);
    cleanup().finally(() => process.exit(130));
  });
}

const startedAt = Date.now();
let failure;
let leftovers = [];
try {
  appDir = await copyExampleApp();
  log(`app copy in ${appDir}`);
  await fw(['build', appDir]);
  const wanted = (part) => only.size === 0 || only.has(part);
  if (wanted('nginx')) await nginxSingle();
  if (wanted('nginx-bg')) await nginxBlueGreen();
  if (wanted('haproxy') || wanted('haproxy-bg')) {
    const ha = await haproxySetup();
    if (wanted('haproxy')) await haproxyReloads(ha);
    if (wanted('haproxy-bg')) await haproxyBlueGreen(ha);
  }
} catch (error) {
  failure = error;
} finally {
  leftovers = await cleanup();
}

/** nginx -v prints on stderr, haproxy -v on stdout. */
const version = (command, args) => {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: 10_000 });
  return `${result.stdout ?? ''}${result.stderr ?? ''}`.trim().split('\n')[0];
};
const run = {
  date: new Date().toISOString(),
  durationS: Math.round((Date.now() - startedAt) / 1000),
  machine: {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    node: process.version,
    nginx: version(NGINX, ['-v']),
    haproxy: version(HAPROXY, ['-v']),
    os: `${os.type()} ${os.release()}`,
    note: 'shared, noisy machine',
  },
  load: { connections: CONNECTIONS, pipelining: 1, path: '/', retries: 0, client: 'undici Client' },
  workers: WORKERS,
  settleMs: SETTLE_MS,
  error: failure ? String(failure.stack ?? failure) : null,
  leftoverProcesses: leftovers,
  events,
};

let runs = [run];
if (process.env.PROXY_BENCH_APPEND === '1') {
  try {
    runs = [...JSON.parse(await readFile(resultFile, 'utf8')).runs, run];
  } catch {
    // nothing to append to
  }
}
await mkdir(path.dirname(resultFile), { recursive: true });
await writeFile(resultFile, `${JSON.stringify({ benchmark: 'proxy-reloads', runs }, null, 2)}\n`);

process.stdout.write(`\n## proxy reloads (${run.date}, ${run.machine.cpus} cores, Node ${process.version}, ${run.durationS} s)\n\n${report(events)}\n\n`);
process.stdout.write(`raw figures: ${path.relative(repoRoot, resultFile)} (${runs.length} run${runs.length > 1 ? 's' : ''})\n`);
if (failure) {
  process.stderr.write(`\nthe benchmark stopped early: ${failure.stack ?? failure}\n`);
  process.exitCode = 1;
}
if (leftovers.length) process.exitCode = 1;
