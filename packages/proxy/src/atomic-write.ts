import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';

/**
 * Writes a file aside and renames it into place: a reader sees the old file or the new one. The
 * file aside is a new one (O_CREAT|O_EXCL: a link planted at its name fails it, never followed),
 * and rename(2) replaces the name itself, not what a link there points to.
 */
export async function writeAtomically(file: string, text: string): Promise<void> {
  const staging = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(staging, text, { flag: 'wx' });
    await rename(staging, file);
  } catch (error) {
    // EEXIST: the name was taken (by a planted link, say), and what is there is not ours to remove.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') await rm(staging, { force: true });
    throw error;
  }
}
