import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { lstat, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { controlRequest } from '../src/control-client.js';
import { listenControlSocket } from '../src/control-server.js';
import { ControlUnavailableError } from '../src/errors.js';

describe('control socket', () => {
  let dir: string;
  let socketPath: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'fw-control-'));
    socketPath = path.join(dir, 'control.sock');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is readable and writable by its owner only', async () => {
    const control = await listenControlSocket(socketPath, async () => ({ ok: true, command: 'stop' }));
    try {
      expect((await stat(socketPath)).mode & 0o777).toBe(0o600);
    } finally {
      await control.close();
    }
  });

  it('answers each request with what the handler returns, after it settles', async () => {
    const control = await listenControlSocket(socketPath, async (request) => {
      await new Promise((resolve) => setTimeout(resolve, 50));
      return request.command === 'stop' ? { ok: true, command: 'stop' } : { ok: false, command: 'error', error: { name: 'Error', message: 'nope' } };
    });
    try {
      await expect(controlRequest(socketPath, { command: 'stop' }, 5_000)).resolves.toEqual({ ok: true, command: 'stop' });
      await expect(controlRequest(socketPath, { command: 'status' }, 5_000)).resolves.toMatchObject({ ok: false, error: { message: 'nope' } });
    } finally {
      await control.close();
    }
  });

  it('turns a handler failure into an error answer instead of a dropped connection', async () => {
    const control = await listenControlSocket(socketPath, async () => {
      throw new Error('queue closed');
    });
    try {
      await expect(controlRequest(socketPath, { command: 'reload' }, 5_000)).resolves.toMatchObject({ ok: false, command: 'error', error: { message: 'queue closed' } });
    } finally {
      await control.close();
    }
  });

  it('tells a client plainly that no master is running', async () => {
    await expect(controlRequest(socketPath, { command: 'reload' }, 5_000)).rejects.toThrow(ControlUnavailableError);
  });

  it('removes a stale socket file left by a master that died', async () => {
    // A master killed outright leaves its bound socket file behind: nothing listens on it, and
    // bind(2) on that path fails (EADDRINUSE) until it is removed. Bound under umask 022, its mode
    // (0755) tells it from the control socket's own (0600); inode numbers may be reused.
    const bind = `process.umask(0o022); require('node:net').createServer().listen(${JSON.stringify(socketPath)}, () => console.log('listening'))`;
    const dead = spawn(process.execPath, ['-e', bind], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await once(dead.stdout!, 'data');
    dead.kill('SIGKILL');
    await once(dead, 'exit');
    const stale = await lstat(socketPath);
    expect(stale.isSocket()).toBe(true);
    expect(stale.mode & 0o777).toBe(0o755);
    await expect(controlRequest(socketPath, { command: 'stop' }, 5_000)).rejects.toThrow(ControlUnavailableError);

    const control = await listenControlSocket(socketPath, async () => ({ ok: true, command: 'stop' }));
    try {
      const fresh = await lstat(socketPath);
      expect(fresh.isSocket()).toBe(true);
      expect(fresh.mode & 0o777).toBe(0o600);
      await expect(controlRequest(socketPath, { command: 'stop' }, 5_000)).resolves.toEqual({ ok: true, command: 'stop' });
    } finally {
      await control.close();
    }
  });
});
