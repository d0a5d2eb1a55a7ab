import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Real front proxies for the tests. A missing binary skips the test with the reason, except under
 * CI=true, where the run installs them (.ci/run) and a skip would hide a broken setup: there it fails.
 */
export function proxyBinary(name: 'nginx' | 'haproxy'): { available: boolean; reason: string } {
  for (const candidate of [name, `/usr/sbin/${name}`]) {
    try {
      execFileSync(candidate, name === 'nginx' ? ['-v'] : ['-v'], { stdio: 'ignore' });
      return { available: true, reason: '' };
    } catch {
      // try the next
    }
  }
  const reason = `${name} is not installed (apt-get install ${name})`;
  if (process.env.CI === 'true') throw new Error(`${reason}: CI must run the proxy tests, not skip them`);
  return { available: false, reason };
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function waitForPort(port: number, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the proxy exited (code ${child.exitCode}):\n${output()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await sleep(50);
  }
  throw new Error(`the proxy did not listen on ${port} within 15 s:\n${output()}`);
}

export interface RunningProxy {
  stop(): Promise<void>;
  output(): string;
  /** The proxy's master process (signal it to reload). */
  pid: number;
}

function track(child: ChildProcess): { output: () => string; stop: () => Promise<void> } {
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // gone
    }
    await exited;
  };
  return { output: () => output, stop };
}

/** nginx in the foreground, in its own folder, with the main config `wrap` makes around `snippet`. */
export async function startNginx(snippetFile: string, port: number, wrap: (dir: string, snippet: string) => string): Promise<RunningProxy> {
  const dir = await mkdtemp(path.join(tmpdir(), 'fw-nginx-'));
  await mkdir(path.join(dir, 'logs'));
  await writeFile(path.join(dir, 'nginx.conf'), wrap(dir, snippetFile));
  const child = spawn('nginx', ['-p', dir, '-c', path.join(dir, 'nginx.conf')], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const tracked = track(child);
  await waitForPort(port, child, tracked.output);
  return {
    output: tracked.output,
    pid: child.pid!,
    stop: async () => {
      await tracked.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** HAProxy in master-worker mode, in the foreground. */
export async function startHaproxy(configFile: string, port: number): Promise<RunningProxy> {
  const child = spawn('haproxy', ['-W', '-db', '-f', configFile], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const tracked = track(child);
  await waitForPort(port, child, tracked.output);
  return { ...tracked, pid: child.pid! };
}
