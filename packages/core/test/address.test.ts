import { describe, expect, it } from 'vitest';
import { parseAddress } from '../src/address.js';

describe('parseAddress: one reading of an address for every flag and setting', () => {
  it('reads a host and port, an IPv6 host in brackets, and a port alone on the loopback address', () => {
    expect(parseAddress('10.0.0.5:3000')).toEqual({ kind: 'tcp', host: '10.0.0.5', port: 3000 });
    expect(parseAddress('[::1]:3000')).toEqual({ kind: 'tcp', host: '::1', port: 3000 });
    expect(parseAddress('localhost:8080')).toEqual({ kind: 'tcp', host: 'localhost', port: 8080 });
    // Leaving the host out never means every interface: that is asked for by name.
    expect(parseAddress('3000')).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 3000 });
    expect(parseAddress(':3000')).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 3000 });
    expect(parseAddress('0.0.0.0:3000')).toEqual({ kind: 'tcp', host: '0.0.0.0', port: 3000 });
    expect(parseAddress(' 3000 ')).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 3000 });
  });

  it('takes a unix socket, a URL and port 0 only where the caller allows them', () => {
    expect(parseAddress('unix:/run/app.sock')).toBeNull();
    expect(parseAddress('unix:/run/app.sock', { unix: true })).toEqual({ kind: 'unix', path: '/run/app.sock' });
    expect(parseAddress('unix:', { unix: true })).toBeNull();
    expect(parseAddress('http://127.0.0.1:3000')).toBeNull();
    expect(parseAddress('http://127.0.0.1:3000/', { url: true })).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 3000 });
    expect(parseAddress('http://[::1]:3000', { url: true })).toEqual({ kind: 'tcp', host: '::1', port: 3000 });
    expect(parseAddress('0')).toBeNull();
    expect(parseAddress('127.0.0.1:0', { portZero: true })).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 0 });
  });

  it('refuses what names no address', () => {
    for (const spec of ['', 'abc', '70000', '127.0.0.1:70000', '127.0.0.1:', '::1:3000', '[::1]', 'a b:3000', 'http://x:1/path', '1e3', '0x50']) {
      expect(parseAddress(spec, { unix: true, url: true, portZero: true }), spec).toBeNull();
    }
  });
});
