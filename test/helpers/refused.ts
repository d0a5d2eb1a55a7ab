import { existsSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import type { fw } from './fw-process.js';

/** Bad input refused before anything starts: exit code 2, one line on stderr, no pid file in `appDir`. */
export function expectRefused(result: Awaited<ReturnType<typeof fw>>, pattern: RegExp, appDir: string): void {
  expect(result.exitCode, result.all).toBe(2);
  const lines = result.stderr.trim().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(result.stdout).toBe('');
  expect(existsSync(path.join(appDir, '.fw', 'master.pid'))).toBe(false);
}
