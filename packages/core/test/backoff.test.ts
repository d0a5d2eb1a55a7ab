import { describe, expect, it } from 'vitest';
import { defaultBackoff, restartDelay, type BackoffPolicy } from '../src/backoff.js';

const policy: BackoffPolicy = { initialMs: 100, maxMs: 1_000, windowMs: 10_000 };
const NOW = 1_000_000;

/** `count` crashes, one a second, the last one now. */
function crashes(count: number): number[] {
  return Array.from({ length: count }, (_, i) => NOW - (count - 1 - i) * 1_000);
}

describe('restartDelay', () => {
  it('replaces the first crash in the window at once', () => {
    expect(restartDelay([], NOW, policy)).toBe(0);
    expect(restartDelay([NOW], NOW, policy)).toBe(0);
  });

  it('waits initialMs before the second, then doubles, capped at maxMs', () => {
    expect([2, 3, 4, 5, 6, 7, 10].map((count) => restartDelay(crashes(count), NOW, policy))).toEqual([
      100, 200, 400, 800, 1_000, 1_000, 1_000,
    ]);
  });

  it('forgets crashes older than the window (a crash exactly windowMs old no longer counts)', () => {
    expect(restartDelay([NOW - 10_000, NOW], NOW, policy)).toBe(0);
    expect(restartDelay([NOW - 9_999, NOW], NOW, policy)).toBe(100);
    expect(restartDelay([NOW - 50_000, NOW - 40_000, NOW - 30_000, NOW - 5, NOW], NOW, policy)).toBe(100);
  });

  it('does not depend on the order of the crash times', () => {
    const times = crashes(4);
    expect(restartDelay([...times].reverse(), NOW, policy)).toBe(restartDelay(times, NOW, policy));
  });

  it('with the default policy: 0, 250 ms, 500 ms, … up to 15 s within a minute', () => {
    expect(defaultBackoff).toEqual({ initialMs: 250, maxMs: 15_000, windowMs: 60_000 });
    const delays = [1, 2, 3, 4, 8, 9].map((count) => restartDelay(Array(count).fill(NOW), NOW, defaultBackoff));
    expect(delays).toEqual([0, 250, 500, 1_000, 15_000, 15_000]);
  });
});
