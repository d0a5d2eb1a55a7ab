/**
 * `proxy.trust` from fw.config.ts, checked and turned into Fastify's `trustProxy`: which peers'
 * X-Forwarded-* headers to believe. The default trusts nothing, so a client cannot forge its IP.
 */
export type TrustSetting = boolean | number | string | string[];

const NAMED = new Set(['loopback', 'linklocal', 'uniquelocal']);
const CIDR = /^[0-9a-fA-F:.]+(\/\d{1,3})?$/;

export function parseTrust(value: unknown): { ok: true; trust: TrustSetting } | { ok: false; message: string } {
  if (value === undefined || value === false) return { ok: true, trust: false };
  if (value === true) return { ok: true, trust: true };
  if (typeof value === 'number') {
    return Number.isInteger(value) && value >= 0 && value <= 32
      ? { ok: true, trust: value }
      : { ok: false, message: 'a hop count must be a whole number from 0 to 32' };
  }
  const list = typeof value === 'string' ? value.split(',').map((item) => item.trim()) : value;
  if (!Array.isArray(list) || list.length === 0) {
    return { ok: false, message: "expected true, a hop count, 'loopback', or a list of addresses and CIDRs" };
  }
  for (const item of list) {
    if (typeof item !== 'string' || !(NAMED.has(item) || CIDR.test(item))) {
      return { ok: false, message: `"${String(item)}" is not an address, a CIDR or one of loopback, linklocal, uniquelocal` };
    }
  }
  return { ok: true, trust: list.length === 1 ? list[0]! : list };
}
