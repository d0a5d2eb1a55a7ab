import { constants } from 'node:fs';
import { open, rm } from 'node:fs/promises';

/** Create, write only, and fail if anything at all is at the path: a file, a directory or a link (never followed). */
const CREATE_NEW = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/**
 * Creates `file` and writes `data` to it. Anything already at the path (someone else's file, or a
 * symbolic link planted there) makes it fail with EEXIST: it never writes through a link and never
 * truncates a file it did not create. A write that fails (a full disk, a file size limit) removes
 * the file it created, so nothing is left behind.
 */
export async function writeNewFile(file: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  const handle = await open(file, CREATE_NEW, mode);
  try {
    await handle.writeFile(data);
    await handle.close();
  } catch (error) {
    await handle.close().catch(() => undefined);
    await rm(file, { force: true });
    throw error;
  }
}
