import { type Address, parseAddress } from '@fwjs/core';

/** An address fw listens on, as a proxy reaches it. */
export type Upstream = Address;

/** `unix:/run/app.sock`, `http://127.0.0.1:3000` (as fw status prints) or `127.0.0.1:3000`: see parseAddress. */
export function parseUpstream(spec: string): Upstream | null {
  return parseAddress(spec, { unix: true, url: true });
}

export function nginxServer(upstream: Upstream): string {
  if (upstream.kind === 'unix') return `unix:${upstream.path}`;
  return upstream.host.includes(':') ? `[${upstream.host}]:${upstream.port}` : `${upstream.host}:${upstream.port}`;
}

export function haproxyServer(upstream: Upstream): string {
  if (upstream.kind === 'unix') return `unix@${upstream.path}`;
  return upstream.host.includes(':') ? `[${upstream.host}]:${upstream.port}` : `${upstream.host}:${upstream.port}`;
}
