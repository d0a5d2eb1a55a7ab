import { describe, expect, it } from 'vitest';
import { connectionsToShed } from '../src/connection-balance.js';

const counts = (...connections: number[]) => connections.map((n, index) => ({ id: index + 1, connections: n }));

describe('connectionsToShed', () => {
  it('asks a worker holding every connection to let go of the excess over an even share', () => {
    expect(connectionsToShed(counts(32, 0))).toEqual(new Map([[1, 16]]));
    expect(connectionsToShed(counts(30, 0, 0))).toEqual(new Map([[1, 20]]));
  });

  it('takes from each worker over its share, and only from those', () => {
    expect(connectionsToShed(counts(20, 10, 2))).toEqual(new Map([[1, 9]]));
    expect(connectionsToShed(counts(14, 14, 2, 2))).toEqual(new Map([[1, 6], [2, 6]]));
  });

  it('leaves a spread within the tolerance alone', () => {
    expect(connectionsToShed(counts(18, 14)).size).toBe(0); // 18 is 12.5% over 16
    expect(connectionsToShed(counts(16, 16)).size).toBe(0);
  });

  it('leaves small numbers alone: one worker, no connections, or an excess under two', () => {
    expect(connectionsToShed(counts(50)).size).toBe(0);
    expect(connectionsToShed(counts(0, 0)).size).toBe(0);
    expect(connectionsToShed(counts(3, 0)).size).toBe(0); // 1.5 over an even 1.5
    expect(connectionsToShed(counts(4, 0))).toEqual(new Map([[1, 2]]));
  });
});
