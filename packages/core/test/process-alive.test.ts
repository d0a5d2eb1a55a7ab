import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { isAlive } from '../src/process-alive.js';

describe('isAlive', () => {
  it('is true for a running process, this one and one owned by another user (pid 1)', () => {
    expect(isAlive(process.pid)).toBe(true);
    expect(isAlive(1)).toBe(true);
  });

  it('is false for a process that has exited and been reaped', async () => {
    const child = spawn(process.execPath, ['-e', '']);
    await once(child, 'exit');
    expect(isAlive(child.pid as number)).toBe(false);
  });

  it.runIf(process.platform === 'linux')('is false for a zombie: exited, not yet reaped', async () => {
    // A shell forks a child that exits after 0.5 s, then execs a sleeper: the child exits once its
    // parent is the sleeper, which never waits for it, so it stays a zombie. (A child that exited
    // at once could be reaped by the shell before its exec.)
    const parent = spawn('sh', ['-c', 'sleep 0.5 & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const [line] = (await once(parent.stdout, 'data')) as [Buffer];
      const zombie = Number(line.toString().trim());
      await expect.poll(() => isAlive(zombie), { timeout: 5_000, interval: 20 }).toBe(false);
      // It is still in the process table: kill(0) reaches it.
      expect(() => process.kill(zombie, 0)).not.toThrow();
    } finally {
      parent.kill('SIGKILL');
    }
  });
});
