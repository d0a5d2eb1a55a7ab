import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';

/** Writes a file aside and renames it into place: a reader sees the old file or the new one. */
export async function writeAtomically(file: string, text: string): Promise<void> {
  const staging = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(staging, text);
    await rename(staging, file);
  } catch (error) {
    await rm(staging, { force: true });
    throw error;
  }
}
