import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { BindError } from '../src/errors.js';
import { bindAll } from '../src/sockets.js';

describe('bindAll', () => {
  it('binds without accepting: nothing answers until a worker listens', async () => {
    const [socket] = await bindAll([{ kind: 'tcp', host: '127.0.0.1', port: 0 }]);
    const bound = socket!.bind;
    if (bound.kind !== 'tcp') throw new Error('expected a TCP bind');
    try {
      expect(bound.port).toBeGreaterThan(0);
      expect(socket!.address).toBe(`http://127.0.0.1:${bound.port}`);
      const refused = await new Promise<boolean>((resolve) => {
        const client = net.connect(bound.port, '127.0.0.1');
        client.once('connect', () => {
          client.destroy();
          resolve(false);
        });
        client.once('error', () => resolve(true));
      });
      expect(refused).toBe(true);
    } finally {
      socket?.close();
    }
  });

  it('refuses a port in use with the fix, and releases what it had bound', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as net.AddressInfo;
    try {
      const attempt = bindAll([
        { kind: 'tcp', host: '127.0.0.1', port: 0 },
        { kind: 'tcp', host: '127.0.0.1', port },
      ]);
      await expect(attempt).rejects.toThrow(BindError);
      await expect(attempt).rejects.toThrow(`port ${port} on 127.0.0.1 is already in use: stop what listens there, or pick another with --port`);
    } finally {
      blocker.close();
    }
  });

  it('names a host that does not resolve', async () => {
    await expect(bindAll([{ kind: 'tcp', host: 'no-such-host.invalid', port: 0 }])).rejects.toThrow(/cannot resolve host "no-such-host.invalid"/);
  });
});

describe('unix sockets', () => {
  it('binds a unix socket with the mode asked for, refuses one in use, and removes the file on close', async () => {
    const { mkdtemp, rm, stat } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const path = await import('node:path');
    const dir = await mkdtemp(path.join(tmpdir(), 'fw-unix-'));
    const file = path.join(dir, 'app.sock');
    try {
      const [socket] = await bindAll([{ kind: 'unix', path: file, mode: 0o660 }]);
      expect(socket!.address).toBe(`unix:${file}`);
      expect((await stat(file)).mode & 0o777).toBe(0o660);
      socket!.close();
      await expect(stat(file)).rejects.toThrow();

      const other = net.createServer();
      await new Promise<void>((resolve) => other.listen(file, resolve));
      try {
        await expect(bindAll([{ kind: 'unix', path: file, mode: 0o660 }])).rejects.toThrow(/is already in use/);
      } finally {
        other.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('parses bind specs', async () => {
    const { parseBind } = await import('../src/sockets.js');
    expect(parseBind('unix:/run/app.sock', 0o600)).toEqual({ kind: 'unix', path: '/run/app.sock', mode: 0o600 });
    expect(parseBind('127.0.0.1:3000', 0o660)).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 3000 });
    expect(parseBind('[::1]:3000', 0o660)).toEqual({ kind: 'tcp', host: '::1', port: 3000 });
    expect(parseBind('3000', 0o660)).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 3000 });
    expect(parseBind(':3000', 0o660)).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 3000 });
    expect(parseBind('0.0.0.0:0', 0o660)).toEqual({ kind: 'tcp', host: '0.0.0.0', port: 0 });
    expect(parseBind('localhost:99999', 0o660)).toBeNull();
    expect(parseBind('unix:', 0o660)).toBeNull();
  });
});
