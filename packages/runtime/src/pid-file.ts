import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

export class AlreadyRunningError extends Error {
  override name = 'AlreadyRunningError';
}

/** The pid in the file, if that process is still alive. */
export async function runningMasterPid(pidFile: string): Promise<number | null> {
  const text = await readFile(pidFile, 'utf8').catch(() => null);
  const pid = text ? Number.parseInt(text.trim(), 10) : Number.NaN;
  if (!Number.isInteger(pid) || pid <= 0) return null;
  return isAlive(pid) ? pid : null;
}

/** Writes this process's pid; refuses when a live master already owns the app. */
export async function claimPidFile(pidFile: string, appDir: string, takingOverFrom?: number): Promise<void> {
  const running = await runningMasterPid(pidFile);
  if (running !== null && running !== process.pid && running !== takingOverFrom) {
    throw new AlreadyRunningError(
      `fw is already running for ${appDir} (pid ${running}): use "fw reload" to deploy, or "fw stop" first`,
    );
  }
  await mkdir(path.dirname(pidFile), { recursive: true });
  const staging = `${pidFile}.${process.pid}`;
  await writeFile(staging, `${process.pid}\n`);
  await rename(staging, pidFile);
}

/** Removes the pid file if it is still ours (a successor master may have taken it over). */
export async function releasePidFile(pidFile: string): Promise<void> {
  const text = await readFile(pidFile, 'utf8').catch(() => null);
  if (text !== null && Number.parseInt(text.trim(), 10) === process.pid) await rm(pidFile, { force: true });
}

/** Whether a process with this pid exists (one owned by another user counts). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
