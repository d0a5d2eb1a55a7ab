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
    // A shell that execs a sleeper after forking a child that exits at once: the child stays a
    // zombie, since the sleeper (its parent now) never waits for it.
    const parent = spawn('sh', ['-c', 'sh -c "exit 0" & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] });
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
