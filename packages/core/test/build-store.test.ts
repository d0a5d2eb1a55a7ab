import { chmod, mkdtemp, readdir, readFile, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hasBuild, latestBuild, markServing, publishBuild } from '../src/build-store.js';
import { NoBuildError } from '../src/errors.js';

describe('build store', () => {
  let appDir: string;
  beforeEach(async () => {
    appDir = await mkdtemp(path.join(tmpdir(), 'fw-build-store-'));
  });
  afterEach(async () => {
    await rm(appDir, { recursive: true, force: true });
  });

  const publish = (text: string) =>
    publishBuild(appDir, async (folder) => {
      await writeFile(path.join(folder, 'app.mjs'), text);
      return { entry: 'app.mjs' };
    });

  it('has no build before the first publish, and says how to make one', async () => {
    await expect(latestBuild(appDir)).rejects.toThrow(NoBuildError);
    await expect(latestBuild(appDir)).rejects.toThrow(/run "fw build" first/);
  });

  it('points .fw/build at the newest build, and pins a reader to the one it saw', async () => {
    const first = await publish('export default 1');
    const seen = await latestBuild(appDir);
    expect(seen).toEqual(first);
    const second = await publish('export default 2');
    expect((await latestBuild(appDir)).id).toBe(second.id);
    expect(await readFile(path.join(appDir, '.fw', 'build', 'app.mjs'), 'utf8')).toBe('export default 2');
    // The first reader's entry still holds what it loaded: a later build never changes it.
    expect(await readFile(seen.entry, 'utf8')).toBe('export default 1');
  });

  it('tells the writer which release came before, so unchanged files can be linked from it', async () => {
    const seen: (string | undefined)[] = [];
    const publishSeeing = () =>
      publishBuild(appDir, async (folder, previous) => {
        seen.push(previous);
        await writeFile(path.join(folder, 'app.mjs'), 'export default 1');
        return { entry: 'app.mjs' };
      });
    const first = await publishSeeing();
    await publishSeeing();
    expect(seen[0]).toBeUndefined();
    expect(seen[1]).toBe(path.dirname(first.entry));
  });

  it('refuses a release whose manifest names a missing entry', async () => {
    await publishBuild(appDir, async () => ({ entry: 'src/missing.js' }));
    await expect(latestBuild(appDir)).rejects.toThrow(/has no src\/missing\.js: run "fw build" again/);
  });

  it('publishes nothing when writing the build fails', async () => {
    const good = await publish('export default 1');
    await expect(publishBuild(appDir, async () => {
      throw new Error('esbuild failed');
    })).rejects.toThrow('esbuild failed');
    expect((await latestBuild(appDir)).id).toBe(good.id);
    const leftovers = (await readdir(path.join(appDir, '.fw', 'builds'))).filter((name) => name.startsWith('.'));
    expect(leftovers).toEqual([]);
  });

  it('never prunes the release a master marks as serving', async () => {
    const live = await publish('export default 0');
    await markServing(appDir, live);
    for (let i = 1; i <= 7; i++) await publish(`export default ${i}`);
    expect(await readFile(live.entry, 'utf8')).toBe('export default 0');
  });

  it('keeps the last few builds and removes older ones', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) ids.push((await publish(`export default ${i}`)).id);
    const kept = (await readdir(path.join(appDir, '.fw', 'builds'))).sort();
    expect(kept).toEqual(ids.slice(-5).sort());
    expect(path.basename(await realpath(path.join(appDir, '.fw', 'build')))).toBe(ids.at(-1));
  });

  it('reports a build that is there but cannot be read with the real error and its path, not as missing', async () => {
    const build = await publish('export default 1');
    // A link loop where the entry should be: ELOOP, whoever runs the test (root reads every file).
    await rm(build.entry);
    await symlink(path.basename(build.entry), build.entry);
    const error = await latestBuild(appDir).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(NoBuildError);
    expect((error as Error).message).toMatch(/^cannot read the build: ELOOP: .*, access '.*app\.mjs'/);
    expect((error as Error).message).not.toMatch(/has no/);
    // fw start builds when there is no build; an unreadable one is an error to report instead.
    await expect(hasBuild(appDir)).rejects.toThrow(/ELOOP/);
  });

  it.skipIf(process.getuid?.() === 0)('names EACCES and the path of an entry the user cannot read', async () => {
    const build = await publish('export default 1');
    await chmod(build.entry, 0o000);
    await expect(latestBuild(appDir)).rejects.toThrow(/^cannot read the build: EACCES: permission denied, access '.*app\.mjs'/);
  });

  it('still says "run fw build" when the build is missing', async () => {
    expect(await hasBuild(appDir)).toBe(false);
  });
});
