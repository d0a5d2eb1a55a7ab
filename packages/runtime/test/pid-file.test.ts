import { type ChildProcess, spawn } from 'node:child_process';
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AlreadyRunningError, PidFileError } from '../src/errors.js';
import { claimPidFile, parsePid, releasePidFile, runningMasterPid, runsFwStart } from '../src/pid-file.js';

/** A live process whose command line reads like `fw start` (or not), as /proc shows it. */
function spawnIdle(extraArgs: string[]): ChildProcess {
  return spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)', ...extraArgs], { stdio: 'ignore' });
}

async function spawned(child: ChildProcess): Promise<number> {
  // The command line is the child's own once it has exec'd node.
  await expect.poll(() => readFile(`/proc/${child.pid}/cmdline`, 'utf8').catch(() => ''), { timeout: 1_000, interval: 10 }).toContain('setTimeout');
  return child.pid!;
}

describe('pid file', () => {
  let dir: string;
  let pidFile: string;
  const children: ChildProcess[] = [];
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'fw-pid-'));
    pidFile = path.join(dir, '.fw', 'master.pid');
  });
  afterEach(async () => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });
  const leftovers = async () => (await readdir(path.dirname(pidFile))).filter((name) => name !== 'master.pid');

  it('records this process and removes only its own file', async () => {
    await claimPidFile(pidFile);
    expect((await readFile(pidFile, 'utf8')).trim()).toBe(String(process.pid));
    expect(await runningMasterPid(pidFile)).toBe(process.pid);
    expect(await leftovers()).toEqual([]);
    await releasePidFile(pidFile);
    expect(await runningMasterPid(pidFile)).toBeNull();
  });

  it('refuses, with one line naming it, when a live fw master owns the app', async () => {
    const other = spawnIdle(['fw.js', 'start']);
    children.push(other);
    const pid = await spawned(other);
    await claimPidFile(pidFile);
    await writeFile(pidFile, `${pid}\n`);
    const refusal = claimPidFile(pidFile);
    await expect(refusal).rejects.toThrow(AlreadyRunningError);
    await expect(refusal).rejects.toThrow(`another fw master (pid ${pid}) serves this app: fw stop first, or fw status`);
    await releasePidFile(pidFile);
    expect(await runningMasterPid(pidFile)).toBe(pid);
    expect(await leftovers()).toEqual([]);
  });

  it('takes over a file naming a live process that is not an fw master (a reused pid)', async () => {
    const unrelated = spawnIdle([]);
    children.push(unrelated);
    await mkdir(path.dirname(pidFile), { recursive: true });
    await writeFile(pidFile, `${await spawned(unrelated)}\n`);
    await claimPidFile(pidFile);
    expect(await runningMasterPid(pidFile)).toBe(process.pid);
    expect(await leftovers()).toEqual([]);
  });

  it('takes over a file whose process is gone, or that names this very process', async () => {
    const gone = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    await new Promise((resolve) => gone.once('exit', resolve));
    await mkdir(path.dirname(pidFile), { recursive: true });
    await writeFile(pidFile, `${gone.pid}\n`);
    await claimPidFile(pidFile);
    expect(await runningMasterPid(pidFile)).toBe(process.pid);
    await claimPidFile(pidFile);
    expect(await runningMasterPid(pidFile)).toBe(process.pid);
    expect(await leftovers()).toEqual([]);
  });

  it('hands the file over to the master an upgrade starts, while the old one still runs', async () => {
    const old = spawnIdle(['fw.js', 'start']);
    children.push(old);
    await mkdir(path.dirname(pidFile), { recursive: true });
    await writeFile(pidFile, `${await spawned(old)}\n`);
    await claimPidFile(pidFile, old.pid);
    expect(await runningMasterPid(pidFile)).toBe(process.pid);
  });

  it('never writes through a link planted at the pid file: the link is replaced, its target unchanged', async () => {
    const target = path.join(dir, 'target');
    await writeFile(target, 'precious\n');
    await mkdir(path.dirname(pidFile), { recursive: true });
    await symlink(target, pidFile);
    await claimPidFile(pidFile);
    expect(await readFile(target, 'utf8')).toBe('precious\n');
    expect((await lstat(pidFile)).isFile()).toBe(true);
    expect(await runningMasterPid(pidFile)).toBe(process.pid);
  });

  it('says in one line why it cannot write, and leaves nothing behind', async () => {
    // A directory where the pid file goes.
    await mkdir(pidFile, { recursive: true });
    const inTheWay = claimPidFile(pidFile);
    await expect(inTheWay).rejects.toThrow(PidFileError);
    await expect(inTheWay).rejects.toThrow(/is a directory, not a pid file/);
    expect(await leftovers()).toEqual([]);
    // A file where the .fw folder goes: mkdir fails, as root too.
    await rm(path.dirname(pidFile), { recursive: true });
    await writeFile(path.dirname(pidFile), '');
    const error = await claimPidFile(pidFile).catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(PidFileError);
    expect((error as Error).message).toMatch(/^cannot write the pid file .* nothing was started$/);
    expect((error as Error).message).not.toContain('\n');
  });

  it('reads only a whole positive pid', () => {
    expect(parsePid('4598\n')).toBe(4598);
    expect(parsePid(' 12 ')).toBe(12);
    for (const text of ['', '\n', '0', '-1', '12abc', '1e3', '0x10', '99999999999']) expect(parsePid(text)).toBeNull();
  });

  it('tells an fw start command line from others', async () => {
    const yes = [
      ['node', '/srv/app/node_modules/.bin/fw', 'start'],
      ['/usr/bin/node', '--enable-source-maps', '/opt/fw/packages/cli/bin/fw.js', 'start', 'apps/example', '--port', '0'],
      ['node', '/usr/local/bin/fw', 'start', '--instance', 'blue'],
      ['fw', 'start'],
    ];
    const no = [
      ['sleep', '30'],
      ['node', '/srv/other/server.js'],
      ['node', '/srv/app/node_modules/.bin/fw', 'dev'],
      ['node', '/srv/app/start.js'],
    ];
    for (const argv of yes) expect(await runsFwStart(argv, '/nonexistent/main.js')).toBe(true);
    for (const argv of no) expect(await runsFwStart(argv, '/nonexistent/main.js')).toBe(false);
    // This process's own script, whatever it is called.
    expect(await runsFwStart(['node', '/srv/own/cli.mjs', 'start'], '/srv/own/cli.mjs')).toBe(true);
  });
});
