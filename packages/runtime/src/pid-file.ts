import { randomBytes } from 'node:crypto';
import { constants, type BigIntStats } from 'node:fs';
import { link, lstat, mkdir, open, readFile, realpath, rename, rm, unlink } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isAlive, writeNewFile } from '@fwjs/core';
import { controlRequest } from './control-client.js';
import { AlreadyRunningError, PidFileError } from './errors.js';

/** How often a claim re-reads a pid file that changes under it before giving up. */
const CLAIM_ATTEMPTS = 20;
/** How long a claim waits for a master's control socket to say who it is. */
const CONTROL_ANSWER_MS = 2_000;
/** A stale pid file's removal takes milliseconds; a marker this old was left by a master that died. */
const STUCK_REMOVAL_MS = 10_000;
const STALE_MARKERS = 5;

/** The pid in the file, if that process is still alive. */
export async function runningMasterPid(pidFile: string): Promise<number | null> {
  const holder = await readHolder(pidFile).catch(() => null);
  const pid = holder?.pid ?? null;
  return pid !== null && isAlive(pid) ? pid : null;
}

/**
 * Makes this process the app's one master: the pid file is the lock, and the kernel enforces it.
 * The file is written aside (a new file, never through a link) and hard-linked into place, which
 * fails if any master's file is there: of two masters starting at once, exactly one gets it, and
 * the other learns who did. A file naming no live fw master (its process is gone, or the pid now
 * belongs to an unrelated process) is stale and replaced; `takingOverFrom` is the master an
 * upgrade replaces, whose file is taken over while it still runs. Throws AlreadyRunningError when
 * another master serves the app, PidFileError when the file cannot be written; either way nothing
 * of this attempt is left behind, and nobody else's file is touched.
 */
export async function claimPidFile(pidFile: string, takingOverFrom?: number): Promise<void> {
  const staging = `${pidFile}.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    await mkdir(path.dirname(pidFile), { recursive: true });
    await writeNewFile(staging, `${process.pid}\n`);
  } catch (error) {
    throw cannotWrite(pidFile, error);
  }
  try {
    for (let attempt = 0; attempt < CLAIM_ATTEMPTS; attempt++) {
      try {
        await link(staging, pidFile);
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw cannotWrite(pidFile, error);
      }
      const holder = await readHolder(pidFile);
      // Gone since link(2) saw it: try again.
      if (holder === null) continue;
      if (holder.pid !== null && holder.pid === takingOverFrom) {
        // An upgrade: the old master still runs and hands its file over (rename(2) replaces the
        // name, never what a link points to).
        await rename(staging, pidFile);
        return;
      }
      if (holder.pid !== null && (await isLiveMaster(holder.pid, pidFile))) {
        throw new AlreadyRunningError(`another fw master (pid ${holder.pid}) serves this app: fw stop first, or fw status`);
      }
      // Another master may be removing it this moment: give it time to finish.
      if (!(await removeStale(pidFile, holder))) await sleep(10 * (attempt + 1));
    }
    throw new PidFileError(`cannot claim the pid file ${pidFile}: it kept changing while fw read it`);
  } catch (error) {
    if (error instanceof AlreadyRunningError || error instanceof PidFileError) throw error;
    throw cannotWrite(pidFile, error);
  } finally {
    await rm(staging, { force: true });
  }
}

/** Removes the pid file if it is still ours (a successor master may have taken it over). */
export async function releasePidFile(pidFile: string): Promise<void> {
  const holder = await readHolder(pidFile).catch(() => null);
  if (holder?.pid === process.pid) await rm(pidFile, { force: true });
}

/** What is at the pid file's path: which inode, and the pid it names (null: none, or not a plain file). */
interface Holder {
  pid: number | null;
  stats: BigIntStats;
}

async function readHolder(pidFile: string): Promise<Holder | null> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    // O_NOFOLLOW: a link planted at the path is reported (ELOOP), never read through.
    handle = await open(pidFile, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    if (code !== 'ELOOP') throw error;
    const stats = await lstat(pidFile, { bigint: true }).catch(() => null);
    return stats && { pid: null, stats };
  }
  try {
    const stats = await handle.stat({ bigint: true });
    if (stats.isDirectory()) throw new PidFileError(`${pidFile} is a directory, not a pid file: remove it, then fw start again`);
    return { pid: stats.isFile() ? parsePid(await handle.readFile('utf8')) : null, stats };
  } finally {
    await handle.close();
  }
}

export function parsePid(text: string): number | null {
  const trimmed = text.trim();
  if (!/^\d{1,10}$/.test(trimmed)) return null;
  const pid = Number(trimmed);
  return pid > 0 ? pid : null;
}

/**
 * Removes a stale pid file, and only the one judged stale: two masters may judge it at once, and
 * the one that removes it second must not remove the file the first put there. The file is first
 * hard-linked to a name made of its identity, which only one of them can create (link(2) fails if
 * it exists); the one that did checks that the name holds the very file it judged, and only then
 * unlinks the pid file. No one else can change the pid file meanwhile: a claim's link(2) fails
 * while it exists, and its owner is gone. A name left by a master that died half-way (older than
 * a removal ever takes) is passed over for the next. Resolves with whether this call removed it.
 */
async function removeStale(pidFile: string, judged: Holder): Promise<boolean> {
  const { dev, ino, birthtimeNs } = judged.stats;
  const base = `${pidFile}.stale-${dev}-${ino}-${birthtimeNs}`;
  for (let index = 0; index < STALE_MARKERS; index++) {
    const marker = `${base}-${index}`;
    try {
      await link(pidFile, marker);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // Gone already: look again.
      if (code === 'ENOENT') return false;
      if (code !== 'EEXIST') throw error;
      const left = await lstat(marker).catch(() => null);
      // Another master is removing it right now.
      if (!left || Date.now() - left.ctimeMs < STUCK_REMOVAL_MS) return false;
      continue;
    }
    try {
      const moved = await readHolder(marker);
      if (!moved || !sameFile(moved, judged)) return false;
      await unlink(pidFile);
      return true;
    } finally {
      for (let left = 0; left <= index; left++) await rm(`${base}-${left}`, { force: true });
    }
  }
  return false;
}

function sameFile(a: Holder, b: Holder): boolean {
  return a.pid === b.pid && a.stats.dev === b.stats.dev && a.stats.ino === b.stats.ino && a.stats.birthtimeNs === b.stats.birthtimeNs;
}

/**
 * Whether a live process is an fw master, and not an unrelated process that was given the pid of
 * a master gone long ago (after a reboot, or in a container where pids start over). Its command
 * line says so where /proc shows it; a master started some other way (under a process manager)
 * answers on this app's control socket. Where neither can tell, it is taken for a master: refusing
 * to start is the safe mistake.
 */
async function isLiveMaster(pid: number, pidFile: string): Promise<boolean> {
  if (pid === process.pid || !isAlive(pid)) return false;
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => null);
  if (cmdline === null) return true;
  if (await runsFwStart(cmdline.split('\0').filter(Boolean))) return true;
  return (await controlSocketPid(pidFile)) === pid;
}

/** `[node [options]] <…/bin/fw.js, …/.bin/fw, fw, or this process's own script> … start …`. */
export async function runsFwStart(argv: readonly string[], ownScript = process.argv[1]): Promise<boolean> {
  const own = ownScript ? await realpath(ownScript).catch(() => ownScript) : null;
  for (const [index, arg] of argv.entries()) {
    if (!argv.slice(index + 1).includes('start')) continue;
    if (/^fw(?:\.[cm]?js)?$/.test(path.basename(arg))) return true;
    if (own && path.isAbsolute(arg) && (await realpath(arg).catch(() => arg)) === own) return true;
  }
  return false;
}

/** The pid the master on this pid file's control socket reports, if one answers. */
async function controlSocketPid(pidFile: string): Promise<number | null> {
  const name = /^master(.*)\.pid$/.exec(path.basename(pidFile));
  if (!name) return null;
  const socketPath = path.join(path.dirname(pidFile), `control${name[1]}.sock`);
  const response = await controlRequest(socketPath, { command: 'status' }, CONTROL_ANSWER_MS).catch(() => null);
  return response?.ok && response.command === 'status' ? response.status.pid : null;
}

function cannotWrite(pidFile: string, error: unknown): PidFileError {
  if (error instanceof PidFileError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  const why =
    code === 'ENOSPC' ? 'no space left on the disk'
    : code === 'EDQUOT' ? 'the disk quota is exhausted'
    : code === 'EFBIG' ? 'over the file size limit'
    : code === 'EACCES' || code === 'EPERM' ? 'permission denied'
    : code === 'EROFS' ? 'a read-only file system'
    : (error as Error).message;
  return new PidFileError(`cannot write the pid file ${pidFile} (${why}${code && !why.includes(code) ? `, ${code}` : ''}): nothing was started`);
}
