import { spawn } from 'node:child_process';
import { lstat, mkdir, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { copyExampleApp, repoRoot, type AppFixture } from '../helpers/app-fixture.js';
import { fw, fwBin, startMaster, type RunningMaster } from '../helpers/fw-process.js';

/** The names in `.fw` that a master writes: its pid file, its staging files, its control socket. */
async function masterFiles(fwDir: string): Promise<string[]> {
  return (await readdir(fwDir)).filter((name) => /^(master|control)/.test(name)).sort();
}

/** The pid Linux handed out last: the next processes get the ones after it. */
async function lastPid(): Promise<number> {
  return Number((await readFile('/proc/sys/kernel/ns_last_pid', 'utf8')).trim());
}

describe('the pid file: never through a link, never blocked by a stranger, one line when it cannot be written', () => {
  let app: AppFixture;
  let fwDir: string;
  let master: RunningMaster | undefined;

  beforeAll(async () => {
    app = await copyExampleApp('faults-pid-file');
    // No fw.config.ts: loading it writes a bundle, which a file size limit (below) would stop first.
    await rm(path.join(app.dir, 'fw.config.ts'));
    expect((await fw(['build', app.dir])).exitCode).toBe(0);
    fwDir = path.join(app.dir, '.fw');
  });
  afterEach(async () => {
    await master?.kill();
    master = undefined;
    await rm(path.join(fwDir, 'master.pid'), { recursive: true, force: true });
    for (const name of await readdir(fwDir)) if (/^(master\.pid\.|control\.sock|planted)/.test(name)) await rm(path.join(fwDir, name), { force: true });
  });
  afterAll(async () => {
    await app.remove();
  });

  const stopCleanly = async (running: RunningMaster) => {
    const status = await fw(['status', app.dir, '--json'], { timeoutMs: 15_000 });
    expect((JSON.parse(status.stdout) as { pid: number }).pid).toBe(running.pid);
    expect((await fw(['stop', app.dir], { timeoutMs: 30_000 })).exitCode).toBe(0);
    expect(await running.exited(20_000)).toBe(0);
  };

  it('links planted at the pid file, at every staging name it could use and at the control socket are not followed', async () => {
    const target = path.join(app.dir, 'precious.txt');
    await writeFile(target, 'precious\n');
    // The old staging name was master.pid.<pid>: plant it for the next few thousand pids.
    const from = (await lastPid()) + 1;
    const planted = 3_000;
    for (let pid = from; pid < from + planted; pid++) await symlink(target, path.join(fwDir, `master.pid.${pid}`));
    await symlink(target, path.join(fwDir, 'master.pid'));
    await symlink(target, path.join(fwDir, 'control.sock'));

    master = await startMaster(app.dir, ['--workers', '1']);
    // The master's pid was one of those planted, so the old code would have written through one.
    expect(master.pid).toBeGreaterThanOrEqual(from);
    expect(master.pid).toBeLessThan(from + planted);
    expect(await readFile(target, 'utf8')).toBe('precious\n');
    expect((await lstat(path.join(fwDir, 'master.pid'))).isFile()).toBe(true);
    expect((await readFile(path.join(fwDir, 'master.pid'), 'utf8')).trim()).toBe(String(master.pid));
    expect((await lstat(path.join(fwDir, 'control.sock'))).isSocket()).toBe(true);
    expect((await lstat(path.join(fwDir, `master.pid.${master.pid}`))).isSymbolicLink()).toBe(true);
    await stopCleanly(master);
    expect(await readFile(target, 'utf8')).toBe('precious\n');
    // Its own files are gone; the planted links are not its to remove.
    expect((await masterFiles(fwDir)).filter((name) => !/^master\.pid\.\d+$/.test(name))).toEqual([]);
  });

  it('a pid file naming a live process that is no fw master (a reused pid) does not block fw start', async () => {
    const sleeper = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      for (const stranger of [sleeper.pid!, process.pid]) {
        await writeFile(path.join(fwDir, 'master.pid'), `${stranger}\n`);
        master = await startMaster(app.dir, ['--workers', '1']);
        expect((await readFile(path.join(fwDir, 'master.pid'), 'utf8')).trim()).toBe(String(master.pid));
        await stopCleanly(master);
        master = undefined;
        expect(await masterFiles(fwDir)).toEqual([]);
      }
    } finally {
      sleeper.kill('SIGKILL');
    }
  });

  /** `fw start` under a shell that set things up first; its exit code and output. */
  const startUnder = async (setup: string) => {
    const result = await execa('sh', ['-c', `${setup}; exec "$0" "$@"`, process.execPath, fwBin, 'start', app.dir, '--port', '0', '--workers', '1'], {
      cwd: repoRoot,
      env: { LOG_LEVEL: 'warn' },
      reject: false,
      timeout: 30_000,
      all: true,
    });
    return { exitCode: result.exitCode, stderr: result.stderr, all: result.all ?? '' };
  };

  const expectOneLine = (result: Awaited<ReturnType<typeof startUnder>>, pattern: RegExp) => {
    expect(result.exitCode, result.all).toBe(1);
    expect(result.stderr.trim().split('\n'), result.all).toHaveLength(1);
    expect(result.stderr.trim()).toMatch(pattern);
    expect(result.all).not.toMatch(/\n\s+at /);
    expect(result.all).not.toMatch(/generation 1/);
  };

  it('a pid file that cannot be written (a file size limit, as a full disk would) gives one line, exit 1, and leaves nothing behind', async () => {
    // RLIMIT_FSIZE stops root as well: the pid file's write fails with EFBIG, like ENOSPC would.
    const result = await startUnder('ulimit -f 0');
    expectOneLine(result, /^fw: cannot write the pid file .*master\.pid \(over the file size limit, EFBIG\): nothing was started$/);
    expect(await masterFiles(fwDir)).toEqual([]);
  });

  it('a directory where the pid file goes gives one line, exit 1, and is left as it is', async () => {
    await mkdir(path.join(fwDir, 'master.pid'));
    const result = await startUnder('true');
    expectOneLine(result, /^fw: .*master\.pid is a directory, not a pid file: remove it, then fw start again$/);
    expect(await masterFiles(fwDir)).toEqual(['master.pid']);
    expect((await lstat(path.join(fwDir, 'master.pid'))).isDirectory()).toBe(true);
  });

  it.skipIf(process.getuid?.() === 0)('a .fw folder it may not write to gives one line, exit 1, and leaves nothing behind (not as root: root writes anyway)', async () => {
    const { chmod } = await import('node:fs/promises');
    await chmod(fwDir, 0o555);
    try {
      const result = await startUnder('true');
      expectOneLine(result, /^fw: cannot write the pid file .*master\.pid \(permission denied, EACCES\): nothing was started$/);
    } finally {
      await chmod(fwDir, 0o755);
    }
    expect(await masterFiles(fwDir)).toEqual([]);
  });
});
