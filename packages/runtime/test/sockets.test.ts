import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { bindAll, BindError } from '../src/sockets.js';

describe('bindAll', () => {
  it('binds without accepting: nothing answers until a worker listens', async () => {
    const [socket] = await bindAll([{ kind: 'tcp', host: '127.0.0.1', port: 0 }]);
    try {
      expect(socket!.bind.port).toBeGreaterThan(0);
      expect(socket!.address).toBe(`http://127.0.0.1:${socket!.bind.port}`);
      const refused = await new Promise<boolean>((resolve) => {
        const client = net.connect(socket!.bind.port, '127.0.0.1');
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
