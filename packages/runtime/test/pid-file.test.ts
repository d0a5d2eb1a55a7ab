import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AlreadyRunningError, claimPidFile, releasePidFile, runningMasterPid } from '../src/pid-file.js';

describe('pid file', () => {
  let dir: string;
  let pidFile: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'fw-pid-'));
    pidFile = path.join(dir, '.fw', 'master.pid');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('records this process and removes only its own file', async () => {
    await claimPidFile(pidFile, dir);
    expect((await readFile(pidFile, 'utf8')).trim()).toBe(String(process.pid));
    expect(await runningMasterPid(pidFile)).toBe(process.pid);
    await releasePidFile(pidFile);
    expect(await runningMasterPid(pidFile)).toBeNull();
  });

  it('refuses when another live process owns the app', async () => {
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
    try {
      await claimPidFile(pidFile, dir);
      await writeFile(pidFile, `${other.pid}\n`);
      await expect(claimPidFile(pidFile, dir)).rejects.toThrow(AlreadyRunningError);
      await expect(claimPidFile(pidFile, dir)).rejects.toThrow(new RegExp(`pid ${other.pid}`));
      await releasePidFile(pidFile);
      expect(await runningMasterPid(pidFile)).toBe(other.pid);
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('takes over a file whose process is gone', async () => {
    const gone = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    await new Promise((resolve) => gone.once('exit', resolve));
    await claimPidFile(pidFile, dir);
    await writeFile(pidFile, `${gone.pid}\n`);
    await claimPidFile(pidFile, dir);
    expect(await runningMasterPid(pidFile)).toBe(process.pid);
  });
});
