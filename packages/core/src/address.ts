/**
 * fw's one reading of an address, wherever a person writes one (`--bind`, `bind` in fw.config.ts,
 * `--metrics`, a proxy's `--upstream`) or fw prints one (`fw status`'s binds):
 *
 *   unix:/run/app.sock   a unix socket (where the caller takes one)
 *   127.0.0.1:3000       a host and a port; `[::1]:3000` for an IPv6 host
 *   3000, :3000          a port on DEFAULT_HOST, the host `--host` defaults to
 *   http://127.0.0.1:3000/   as fw status prints a bind (where the caller takes one)
 *
 * A host left out is always the loopback address, as it is for `--port`: listening on every
 * interface is asked for by name (0.0.0.0 or [::]), never the result of leaving something out.
 */
export const DEFAULT_HOST = '127.0.0.1';

export interface TcpAddress {
  kind: 'tcp';
  host: string;
  port: number;
}

export interface UnixAddress {
  kind: 'unix';
  path: string;
}

export type Address = TcpAddress | UnixAddress;

export interface AddressRules {
  /** `unix:PATH` is accepted (a socket fw binds or a proxy reaches); not for `--metrics`. */
  unix?: boolean;
  /** `http://HOST:PORT/` is accepted, as `fw status` prints a bind. */
  url?: boolean;
  /** Port 0 (a free port, chosen when bound) is accepted where fw binds, not where it connects. */
  portZero?: boolean;
}

const TCP = /^(?:\[([0-9A-Fa-f:.]+)\]|([^\s:/[\]]*)):(\d{1,5})$|^(\d{1,5})$/;

/** The address `spec` names, or null when it names none under `rules`. */
export function parseAddress(spec: string, rules: AddressRules = {}): Address | null {
  const trimmed = spec.trim();
  if (trimmed.startsWith('unix:')) {
    const path = trimmed.slice('unix:'.length);
    return rules.unix && path ? { kind: 'unix', path } : null;
  }
  const bare = rules.url ? trimmed.replace(/^https?:\/\//, '').replace(/\/$/, '') : trimmed;
  const match = TCP.exec(bare);
  if (!match) return null;
  const port = Number(match[3] ?? match[4]);
  if (port > 65_535 || (port === 0 && !rules.portZero)) return null;
  return { kind: 'tcp', host: match[1] ?? (match[2] || DEFAULT_HOST), port };
}
