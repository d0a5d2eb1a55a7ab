import { execFileSync, spawn } from 'node:child_process';
import http from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { copyExampleApp, type AppFixture } from './helpers/app-fixture.js';
import { fw, fwBin, isAlive, startMaster, type RunningMaster } from './helpers/fw-process.js';
import { freePort } from './helpers/proxies.js';

function has(command: string, args: string[]): { available: boolean; reason: string } {
  try {
    execFileSync(command, args, { stdio: 'ignore' });
    return { available: true, reason: '' };
  } catch {
    const reason = `${command} is not available`;
    if (process.env.CI === 'true') throw new Error(`${reason}: CI must run this test`);
    return { available: false, reason };
  }
}

const activate = has('systemd-socket-activate', ['--version']);
const analyze = has('systemd-analyze', ['--version']);
const python = has('python3', ['--version']);

/** Runs a command in its own process group; collects its output; kills the group at the end. */
function background(command: string, args: string[], env: NodeJS.ProcessEnv) {
  const child = execa(command, args, { env: { LOG_LEVEL: 'warn', ...env }, detached: true, reject: false, all: true, buffer: false });
  let output = '';
  child.all?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return {
    child,
    output: () => output,
    async until(pattern: RegExp, timeoutMs = 30_000) {
      await expect.poll(() => output, { timeout: timeoutMs, interval: 50 }).toMatch(pattern);
    },
    async kill() {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // gone
      }
      await child;
    },
  };
}

describe('deploying fw', () => {
  let app: AppFixture;
  let master: RunningMaster | undefined;
  beforeEach(async () => {
    app = await copyExampleApp('deploy');
    expect((await fw(['build', app.dir])).exitCode).toBe(0);
  });
  afterEach(async () => {
    await master?.kill();
    master = undefined;
    await app.remove();
  });

  it.skipIf(!activate.available)(`serves on a socket systemd-socket-activate hands over, and binds nothing else${activate.reason}`, async () => {
    const port = await freePort();
    const run = background('systemd-socket-activate', ['-l', `127.0.0.1:${port}`, process.execPath, fwBin, 'start', app.dir, '--workers', '2'], {});
    try {
      // systemd-socket-activate starts fw on the first connection, so that connection must come
      // after it listens (under load, a request sent at once was refused and fw never started).
      await run.until(new RegExp(`Listening on 127\\.0\\.0\\.1:${port}`));
      // The socket listens before fw does: this request waits in its backlog and is answered.
      const early = fetch(`http://127.0.0.1:${port}/`).then((response) => response.status);
      await run.until(new RegExp(`serving http://127\\.0\\.0\\.1:${port} with 2 workers`));
      expect(await early).toBe(200);
      const status = JSON.parse((await fw(['status', app.dir, '--json'])).stdout) as { binds: string[] };
      expect(status.binds).toEqual([`http://127.0.0.1:${port}`]);
    } finally {
      await run.kill();
    }
  });

  it.skipIf(!python.available)(`tells systemd it is ready (Type=notify) through systemd-notify${python.reason}`, async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'fw-notify-'));
    const socket = path.join(dir, 'notify.sock');
    const script = path.join(dir, 'listen.py');
    await writeFile(script, [
      'import socket, sys',
      's = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)',
      's.bind(sys.argv[1])',
      'print("listening", flush=True)',
      's.settimeout(30)',
      'while True:',
      '    data = s.recv(4096).decode()',
      '    print(data.replace("\\n", " "), flush=True)',
      '    if "READY=1" in data: break',
    ].join('\n'));
    const listener = spawn('python3', [script, socket], { stdio: ['ignore', 'pipe', 'inherit'] });
    let received = '';
    listener.stdout.on('data', (chunk: Buffer) => (received += chunk.toString()));
    try {
      await expect.poll(() => received, { timeout: 10_000, interval: 20, message: 'the notify socket listener started' }).toContain('listening');
      master = await startMaster(app.dir, ['--workers', '1'], { NOTIFY_SOCKET: socket });
      await expect.poll(() => received, { timeout: 10_000, interval: 50 }).toMatch(/READY=1/);
      expect(received).toContain(`MAINPID=${master.pid}`);
      expect(received).toMatch(/STATUS=serving generation 1/);
    } finally {
      listener.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(!analyze.available)(`fw systemd prints units systemd-analyze accepts${analyze.reason}`, async () => {
    const result = await fw(['systemd', app.dir, '--name', 'myapp', '--listen', '/run/myapp/app.sock', '--user', 'www-data']);
    expect(result.exitCode, result.all).toBe(0);
    const [, socketUnit, serviceUnit] = result.stdout.split(/^# \/etc\/systemd\/system\/myapp\.(?:socket|service)\n/m);
    expect(serviceUnit).toContain('ExecReload=/bin/kill -HUP $MAINPID');
    expect(serviceUnit).toContain('KillMode=mixed');
    expect(serviceUnit).toContain('Type=notify');
    expect(socketUnit).toContain('ListenStream=/run/myapp/app.sock');
    const dir = await mkdtemp(path.join(tmpdir(), 'fw-units-'));
    try {
      await writeFile(path.join(dir, 'myapp.socket'), socketUnit!);
      await writeFile(path.join(dir, 'myapp.service'), serviceUnit!);
      const verified = await execa('systemd-analyze', ['verify', path.join(dir, 'myapp.socket'), path.join(dir, 'myapp.service')], { reject: false, all: true, timeout: 30_000 });
      expect(verified.exitCode, verified.all).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('--health-path answers 200 while serving and 503 once draining, before the app', async () => {
    master = await startMaster(app.dir, ['--workers', '1', '--health-path', '/healthz', '--graceful-timeout', '10'], { LOG_LEVEL: 'info' });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const get = (pathname: string) =>
      new Promise<{ status: number; body: string; connection: string | undefined }>((resolve, reject) => {
        http.get({ host: '127.0.0.1', port: master!.port, path: pathname, agent }, (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body, connection: res.headers.connection }));
        }).on('error', reject);
      });
    const ready = await get('/healthz');
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body)).toMatchObject({ ready: true, generation: 1 });
    // A slow request keeps the worker draining a while after SIGTERM.
    const slow = fetch(`${master.url}/slow?ms=1500`);
    await master.waitFor(/"url":"\/slow\?ms=1500"/, 10_000);
    master.signal('SIGTERM');
    await master.waitFor(/draining \(stop\)/, 5_000);
    // The master logs the drain as it tells the worker; a request can still reach the worker just
    // before the message does. Ask until the worker answers as a draining one.
    let draining = await get('/healthz');
    const deadline = Date.now() + 5_000;
    while (draining.status === 200 && Date.now() < deadline) draining = await get('/healthz');
    expect(draining.status).toBe(503);
    expect(draining.connection).toBe('close');
    expect((await slow).status).toBe(200);
    expect(await master.exited(15_000)).toBe(0);
    expect(isAlive(master.pid)).toBe(false);
    agent.destroy();
  });
});
