/**
 * Reserved worker exit codes say why a worker died, so the master can refuse a build that cannot
 * boot instead of restarting it in a loop (gunicorn's WORKER_BOOT_ERROR / APP_LOAD_ERROR).
 */
export const EXIT_OK = 0;
/** The app could not be loaded or its start-up failed: the build is bad, retrying will not help. */
export const EXIT_BOOT_ERROR = 3;
/** The worker could not listen on a handed socket. */
export const EXIT_LISTEN_ERROR = 4;
/** The worker lost its master (IPC channel closed) and left rather than become an orphan. */
export const EXIT_ORPHANED = 5;

export function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  if (signal) return `signal ${signal}`;
  switch (code) {
    case EXIT_OK: return 'code 0';
    case EXIT_BOOT_ERROR: return `code ${code} (boot error)`;
    case EXIT_LISTEN_ERROR: return `code ${code} (listen error)`;
    case EXIT_ORPHANED: return `code ${code} (master gone)`;
    default: return `code ${code}`;
  }
}
