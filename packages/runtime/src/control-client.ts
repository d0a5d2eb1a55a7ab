import net from 'node:net';
import type { ControlRequest, ControlResponse } from './control-protocol.js';
import { ControlUnavailableError } from './errors.js';

/** Sends one request to a running master and waits for its answer (a reload waits for the rollout). */
export function controlRequest(socketPath: string, request: ControlRequest, timeoutMs: number): Promise<ControlResponse> {
  return new Promise((resolve, reject) => {
    const connection = net.createConnection(socketPath);
    let buffer = '';
    const timer = setTimeout(() => {
      connection.destroy();
      reject(new Error(`no answer from the master within ${Math.round(timeoutMs / 1000)} s`));
    }, timeoutMs);
    connection.setEncoding('utf8');
    connection.on('connect', () => connection.write(`${JSON.stringify(request)}\n`));
    connection.on('data', (chunk: string) => {
      buffer += chunk;
    });
    connection.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (error.code === 'ENOENT' || error.code === 'ECONNREFUSED') {
        reject(new ControlUnavailableError(`no fw master is running here (nothing listens on ${socketPath})`));
      } else {
        reject(error);
      }
    });
    connection.on('end', () => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(buffer) as ControlResponse);
      } catch {
        reject(new Error('the master closed the control connection without an answer'));
      }
    });
  });
}
