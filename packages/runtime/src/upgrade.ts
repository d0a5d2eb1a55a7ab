import { spawn } from 'node:child_process';
import type { SerializedError } from '@fwjs/core';
import type { OwnedSocket } from '@fwjs/core';

/** What a new master learns from the one it replaces: which inherited fds are which sockets. */
export interface UpgradeHandover {
  fromPid: number;
  sockets: { fd: number; address: string; bind: OwnedSocket['bind'] }[];
}

export const UPGRADE_ENV = 'FW_UPGRADE_HANDOVER';

type UpgradeMessage = { fw: 'upgrade'; type: 'ready'; pid: number } | { fw: 'upgrade'; type: 'failed'; error: SerializedError };

/**
 * Starts a new master from the binaries now on disk (the same command line: unicorn's re-exec,
 * tableflip in Node's terms), handing it the listening sockets as inherited fds. Resolves with its
 * pid once its first generation serves; rejects if it fails or exits first. The caller then
 * drains its own workers and exits, leaving the sockets (never closed, never unlinked) to it.
 */
export function startSuccessor(sockets: OwnedSocket[], timeoutMs: number): Promise<number> {
  const fds = sockets.map((socket) => (socket.handle as { fd?: number }).fd ?? -1);
  if (fds.some((fd) => fd < 0)) return Promise.reject(new Error('a listening socket has no file descriptor to hand over'));
  const handover: UpgradeHandover = {
    fromPid: process.pid,
    sockets: sockets.map((socket, index) => ({ fd: 3 + index, address: socket.address, bind: socket.bind })),
  };
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: ['inherit', 'inherit', 'inherit', ...fds, 'ipc'],
    env: { ...process.env, [UPGRADE_ENV]: JSON.stringify(handover) },
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new Error(`the new master did not serve within ${Math.round(timeoutMs / 1000)} s`));
    }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      child.removeAllListeners('message');
      child.removeAllListeners('exit');
    };
    child.on('message', (message: UpgradeMessage) => {
      if (message?.fw !== 'upgrade') return;
      done();
      if (message.type === 'ready') {
        child.disconnect();
        child.unref();
        resolve(message.pid);
      } else {
        reject(Object.assign(new Error(message.error.message), { stack: message.error.stack }));
      }
    });
    child.on('exit', (code, signal) => {
      done();
      reject(new Error(`the new master exited before it served (${signal ?? `code ${code}`})`));
    });
    child.on('error', (error) => {
      done();
      reject(error);
    });
  });
}

/** In the new master: the handover, if this process was started by an upgrade. */
export function readHandover(env: NodeJS.ProcessEnv = process.env): UpgradeHandover | null {
  const text = env[UPGRADE_ENV];
  if (!text) return null;
  delete env[UPGRADE_ENV];
  return JSON.parse(text) as UpgradeHandover;
}

/** In the new master: tells the old one how the start went. */
export function reportToPredecessor(message: { type: 'ready'; pid: number } | { type: 'failed'; error: SerializedError }): void {
  if (process.send && process.connected) process.send({ fw: 'upgrade', ...message });
}
