import { lookup } from 'node:dns/promises';
import { existsSync, rmSync } from 'node:fs';
import { chmod, rm } from 'node:fs/promises';
import net from 'node:net';
import { resolve as resolvePath } from 'node:path';
import { getSystemErrorName } from 'node:util';
import { parseAddress, type TcpAddress, type UnixAddress } from './address.js';
import { BindError } from './errors.js';
import type { ListeningSocket } from './fork-spawner.js';

export type TcpBind = TcpAddress;

export interface UnixBind extends UnixAddress {
  /** File mode of the socket, e.g. 0o660: who may connect (a proxy in the same group). */
  mode: number;
}

export type Bind = TcpBind | UnixBind;

/** What `--bind` and `bind` name (see parseAddress: a port alone is on 127.0.0.1); `socketMode` for a unix socket. */
export function parseBind(spec: string, socketMode: number): Bind | null {
  const address = parseAddress(spec, { unix: true, portZero: true });
  if (!address) return null;
  return address.kind === 'unix' ? { ...address, mode: socketMode } : address;
}

/** A socket the master owns for its whole life: handed to every worker, closed only at stop. */
export interface OwnedSocket extends ListeningSocket {
  bind: Bind;
  close(): void;
}

interface ServerHandle {
  getsockname?(out: Record<string, unknown>): number;
  close(): void;
}

/**
 * `net._createServerHandle` is what node:cluster's primary uses to own a socket it never accepts
 * on: the socket is bound, and only the workers call listen on it. A master that listened on a
 * `net.Server` itself would accept connections in its own event loop and strand them.
 */
type CreateServerHandle = (
  address: string | null,
  port: number,
  addressType: number,
  fd: number | undefined,
  flags: number,
) => ServerHandle | number;

const createServerHandle = (net as unknown as { _createServerHandle: CreateServerHandle })._createServerHandle;

/**
 * Sockets handed over by systemd's socket activation (`LISTEN_FDS`, `LISTEN_PID`, and
 * `LISTEN_FDNAMES`): already bound and listening, owned by systemd, used as they are. Empty when
 * this process was not socket-activated.
 */
export function inheritedSockets(env: NodeJS.ProcessEnv = process.env): OwnedSocket[] {
  const count = Number(env.LISTEN_FDS);
  if (!Number.isInteger(count) || count <= 0 || Number(env.LISTEN_PID) !== process.pid) return [];
  const names = env.LISTEN_FDNAMES?.split(':') ?? [];
  const sockets: OwnedSocket[] = [];
  for (let index = 0; index < count; index++) {
    const fd = 3 + index; // SD_LISTEN_FDS_START
    const handle = createServerHandle(null, 0, 0, fd, 0);
    if (typeof handle === 'number') throw new BindError(`cannot use inherited socket fd ${fd}: ${getSystemErrorName(handle)}`);
    const out: Record<string, unknown> = {};
    const isTcp = typeof handle.getsockname === 'function' && handle.getsockname(out) === 0 && typeof out.port === 'number';
    const address = isTcp
      ? `http://${out.family === 'IPv6' ? `[${String(out.address)}]` : String(out.address)}:${String(out.port)}`
      : `unix:${names[index] ?? `inherited-fd-${fd}`}`;
    const bind: Bind = isTcp ? { kind: 'tcp', host: String(out.address), port: Number(out.port) } : { kind: 'unix', path: address.slice(5), mode: 0 };
    sockets.push({ bind, handle, address, close: () => handle.close() });
  }
  // Workers and anything else this process starts must not think the sockets are theirs.
  delete env.LISTEN_FDS;
  delete env.LISTEN_PID;
  delete env.LISTEN_FDNAMES;
  return sockets;
}

/** The sockets a predecessor master handed over as inherited fds (fw upgrade). */
export function adoptSockets(handed: { fd: number; address: string; bind: Bind }[]): OwnedSocket[] {
  return handed.map(({ fd, address, bind }) => {
    const handle = createServerHandle(null, 0, 0, fd, 0);
    if (typeof handle === 'number') throw new BindError(`cannot use the handed-over socket fd ${fd} (${address}): ${getSystemErrorName(handle)}`);
    // Opened from an fd, a pipe handle does not unlink its socket file when closed: do it here,
    // as the master that bound it would have (close is only called when serving ends).
    const close = () => {
      handle.close();
      if (bind.kind === 'unix') rmSync(bind.path, { force: true });
    };
    return { bind, handle, address, close };
  });
}

/** Binds every address, or none: on any failure the ones already bound are released. */
export async function bindAll(binds: readonly Bind[]): Promise<OwnedSocket[]> {
  const owned: OwnedSocket[] = [];
  try {
    for (const bind of binds) owned.push(bind.kind === 'unix' ? await bindUnix(bind) : await bindTcp(bind));
  } catch (error) {
    for (const socket of owned) socket.close();
    throw error;
  }
  return owned;
}

async function bindTcp(bind: TcpBind): Promise<OwnedSocket> {
  const { address, family } = await resolveHost(bind.host);
  // libuv reports EADDRINUSE only at listen(), which here happens in a worker. Probe first with a
  // short exclusive listen, so a taken port is refused before anything starts.
  if (bind.port !== 0) await probe(address, bind.port);
  const handle = createServerHandle(address, bind.port, family, undefined, 0);
  if (typeof handle === 'number') throw bindError(bind, getSystemErrorName(handle));
  const out: Record<string, unknown> = {};
  handle.getsockname?.(out);
  const port = typeof out.port === 'number' ? out.port : bind.port;
  const shown = family === 6 ? `[${address}]` : address;
  return {
    bind: { ...bind, port },
    handle,
    address: `http://${shown}:${port}`,
    close: () => handle.close(),
  };
}

async function bindUnix(bind: UnixBind): Promise<OwnedSocket> {
  const path = resolvePath(bind.path);
  if (existsSync(path)) {
    if (await somethingListens(path)) {
      throw new BindError(`${path} is already in use: another server listens there; stop it or pick another --bind`);
    }
    // Left behind by a server that did not clean up: nothing answers on it.
    await rm(path, { force: true });
  }
  const handle = createServerHandle(path, -1, -1, undefined, 0);
  if (typeof handle === 'number') {
    const code = getSystemErrorName(handle);
    throw new BindError(code === 'EACCES' || code === 'ENOENT'
      ? `cannot create ${path} (${code}): its folder must exist and be writable`
      : `cannot bind ${path}: ${code}`);
  }
  await chmod(path, bind.mode);
  // Closing a pipe handle that bound the path also unlinks the socket file (libuv does).
  return { bind: { ...bind, path }, handle, address: `unix:${path}`, close: () => handle.close() };
}

function somethingListens(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

async function resolveHost(host: string): Promise<{ address: string; family: 4 | 6 }> {
  const literal = net.isIP(host);
  if (literal) return { address: host, family: literal as 4 | 6 };
  try {
    const { address, family } = await lookup(host);
    return { address, family: family === 6 ? 6 : 4 };
  } catch {
    throw new BindError(`cannot resolve host "${host}": use an IP address such as 127.0.0.1 or 0.0.0.0`);
  }
}

function probe(address: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(bindError({ kind: 'tcp', host: address, port }, error.code ?? error.message));
    });
    server.listen({ host: address, port, exclusive: true }, () => server.close(() => resolve()));
  });
}

function bindError(bind: TcpBind, code: string): BindError {
  const where = `${bind.host}:${bind.port}`;
  switch (code) {
    case 'EADDRINUSE':
      return new BindError(`port ${bind.port} on ${bind.host} is already in use: stop what listens there, or pick another with --port`);
    case 'EACCES':
      return new BindError(`no permission to bind ${where}: use a port of 1024 or above, or grant the permission`);
    case 'EADDRNOTAVAIL':
      return new BindError(`cannot bind ${where}: the address is not on this machine; use --host 127.0.0.1 or 0.0.0.0`);
    default:
      return new BindError(`cannot bind ${where}: ${code}`);
  }
}

/**
 * `PORT` and `HOST` for the workers: what fw bound (the first TCP socket), so an app that listens
 * itself on `process.env.PORT ?? 3000` agrees with fw, whatever it would have picked alone.
 */
export function listenEnvironment(sockets: readonly ListeningSocket[]): Record<string, string> {
  for (const socket of sockets) {
    const match = /^https?:\/\/(\[[^\]]+\]|[^:/]+):(\d+)/.exec(socket.address);
    if (match) return { PORT: match[2]!, HOST: match[1]!.replace(/^\[|\]$/g, '') };
  }
  return {};
}
