/** An address fw listens on, as a proxy reaches it. */
export type Upstream = { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number };

/** `unix:/run/app.sock`, `http://127.0.0.1:3000` (as fw status prints) or `127.0.0.1:3000`. */
export function parseUpstream(spec: string): Upstream | null {
  if (spec.startsWith('unix:')) return spec.length > 5 ? { kind: 'unix', path: spec.slice(5) } : null;
  const match = /^(?:https?:\/\/)?(?:\[([^\]]+)\]|([^:/]+)):(\d{1,5})\/?$/.exec(spec);
  if (!match) return null;
  const port = Number(match[3]);
  if (port < 1 || port > 65_535) return null;
  return { kind: 'tcp', host: match[1] ?? match[2]!, port };
}

export function nginxServer(upstream: Upstream): string {
  if (upstream.kind === 'unix') return `unix:${upstream.path}`;
  return upstream.host.includes(':') ? `[${upstream.host}]:${upstream.port}` : `${upstream.host}:${upstream.port}`;
}

export function haproxyServer(upstream: Upstream): string {
  if (upstream.kind === 'unix') return `unix@${upstream.path}`;
  return upstream.host.includes(':') ? `[${upstream.host}]:${upstream.port}` : `${upstream.host}:${upstream.port}`;
}
