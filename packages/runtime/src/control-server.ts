import { lstat, rm } from 'node:fs/promises';
import net from 'node:net';
import { serializeError } from '@fwjs/core';
import { isControlRequest, type ControlRequest, type ControlResponse } from './control-protocol.js';

const MAX_REQUEST_BYTES = 64 * 1024;

/**
 * The master's control socket: a unix socket only its owner can use (mode 0600), one JSON line
 * in and one out per connection. Requests are handed to `handle`, which goes through the same
 * command queue as signals.
 */
export async function listenControlSocket(
  socketPath: string,
  handle: (request: ControlRequest) => Promise<ControlResponse>,
): Promise<{ close(): Promise<void> }> {
  // Only the app's one master gets here (the pid file is its lock), or its successor in an upgrade:
  // a socket file here is a dead master's, or the one the predecessor hands over. rm unlinks the
  // name; a link planted here is removed, never followed.
  await rm(socketPath, { force: true });
  const server = net.createServer((connection) => {
    let buffer = '';
    connection.setEncoding('utf8');
    connection.on('error', () => undefined);
    connection.on('data', (chunk: string) => {
      buffer += chunk;
      if (buffer.length > MAX_REQUEST_BYTES) return connection.destroy();
      const newline = buffer.indexOf('\n');
      if (newline === -1) return;
      connection.removeAllListeners('data');
      void answer(buffer.slice(0, newline), handle).then((response) => {
        if (!connection.destroyed) connection.end(`${JSON.stringify(response)}\n`);
      });
    });
  });
  // Created with no permissions for anyone else, so there is no moment another user could connect,
  // and no chmod afterwards (chmod(2) would follow a link put in its place). bind(2) itself never
  // follows one: it fails if anything is at the path.
  const umask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } finally {
    process.umask(umask);
  }
  const created = await lstat(socketPath);
  const isOurs = (now: { ino: number; ctimeMs: number }) => now.ino === created.ino && now.ctimeMs === created.ctimeMs;
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Remove the file only if it is still ours: after an upgrade it is the new master's (which
        // may even have been given the same inode number).
        void lstat(socketPath).then((now) => (isOurs(now) ? rm(socketPath, { force: true }) : undefined), () => undefined);
      }),
  };
}

async function answer(line: string, handle: (request: ControlRequest) => Promise<ControlResponse>): Promise<ControlResponse> {
  try {
    const request: unknown = JSON.parse(line);
    if (!isControlRequest(request)) throw new Error(`unknown control request: ${line.slice(0, 200)}`);
    return await handle(request);
  } catch (error) {
    return { ok: false, command: 'error', error: serializeError(error) };
  }
}
