import { readFileSync } from 'node:fs';

/**
 * Whether the process `pid` is running: it exists (one owned by another user counts) and is not
 * a zombie. A zombie has exited and waits only to be reaped (an orphan whose new parent does not
 * reap it, in a container without an init): it holds no socket and runs no code, so a master or
 * worker in that state is gone. The zombie check reads /proc, so it is made on Linux only.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return process.platform !== 'linux' || !isZombie(pid);
}

function isZombie(pid: number): boolean {
  try {
    // /proc/PID/stat: "PID (COMMAND) STATE …"; COMMAND may itself hold ") ", so read after the last.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.charAt(stat.lastIndexOf(')') + 2) === 'Z';
  } catch {
    // Gone between the two looks, or /proc hides it: kill(0) found it, so count it as running.
    return false;
  }
}
