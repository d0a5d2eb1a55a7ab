import { describe, expect, it } from 'vitest';
import { parseTrust, parseUpstream } from '../src/index.js';

describe('parseUpstream', () => {
  it('reads unix sockets, host:port and the addresses fw status prints', () => {
    expect(parseUpstream('unix:/run/app.sock')).toEqual({ kind: 'unix', path: '/run/app.sock' });
    expect(parseUpstream('127.0.0.1:3000')).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 3000 });
    expect(parseUpstream('http://127.0.0.1:3000')).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 3000 });
    expect(parseUpstream('[::1]:3000')).toEqual({ kind: 'tcp', host: '::1', port: 3000 });
    expect(parseUpstream('localhost')).toBeNull();
    expect(parseUpstream('127.0.0.1:0')).toBeNull();
  });
});

describe('parseTrust', () => {
  it('trusts nothing by default', () => {
    expect(parseTrust(undefined)).toEqual({ ok: true, trust: false });
  });

  it('accepts a hop count, named ranges, addresses and CIDRs', () => {
    expect(parseTrust(1)).toEqual({ ok: true, trust: 1 });
    expect(parseTrust('loopback')).toEqual({ ok: true, trust: 'loopback' });
    expect(parseTrust('10.0.0.0/8, 127.0.0.1')).toEqual({ ok: true, trust: ['10.0.0.0/8', '127.0.0.1'] });
    expect(parseTrust(['::1', 'uniquelocal'])).toEqual({ ok: true, trust: ['::1', 'uniquelocal'] });
  });

  it('names what it cannot read', () => {
    expect(parseTrust('everyone')).toMatchObject({ ok: false, message: expect.stringContaining('"everyone" is not an address') });
    expect(parseTrust(-1)).toMatchObject({ ok: false });
    expect(parseTrust({})).toMatchObject({ ok: false });
  });
});
