import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DevReleases } from '../src/dev-releases.js';

describe('DevReleases', () => {
  let appDir: string;
  let builder: DevReleases;
  beforeEach(async () => {
    appDir = await mkdtemp(path.join(tmpdir(), 'fw-dev-build-'));
    await mkdir(path.join(appDir, 'src'));
    await writeFile(path.join(appDir, 'package.json'), '{ "type": "module" }\n');
    builder = new DevReleases(appDir, 'src/app.ts');
  });
  afterEach(async () => {
    await builder.dispose();
    await rm(appDir, { recursive: true, force: true });
  });

  const source = (text: string) => writeFile(path.join(appDir, 'src', 'app.ts'), text);

  it('writes each good build to a folder of its own, with a source map and its external packages', async () => {
    await source("import Fastify from 'fastify';\nimport fp from '@fastify/cors/x';\nexport default () => Fastify(fp);\n");
    const first = await builder.rebuild();
    expect(first.ok).toBe(true);
    if (!first.ok) return;
    expect(first.externals).toEqual(['@fastify/cors', 'fastify']);
    expect(first.build.entry).toBe(path.join(appDir, '.fw', 'dev', 'builds', first.build.id, 'src', 'app.js'));
    const text = await readFile(first.build.entry, 'utf8');
    const inline = /sourceMappingURL=data:application\/json;base64,(\S+)/.exec(text)?.[1];
    expect(inline, 'an inline source map').toBeDefined();
    const map = JSON.parse(Buffer.from(inline!, 'base64').toString('utf8')) as { sources: string[] };
    // The sources point back at the app's .ts files, so a stack shows the file the developer edits.
    expect(map.sources.map((source) => new URL(source, pathToFileURL(first.build.entry)).href)).toEqual([pathToFileURL(path.join(appDir, 'src', 'app.ts')).href]);

    await source('export default () => 2;\n');
    const second = await builder.rebuild();
    expect(second.ok, second.ok ? '' : second.errors).toBe(true);
    if (!second.ok) return;
    expect(second.build.id).not.toBe(first.build.id);
    expect(second.build.entry).toBe(path.join(appDir, '.fw', 'dev', 'builds', second.build.id, 'src', 'app.js'));
    expect(await readFile(second.build.entry, 'utf8')).toContain('() => 2');
    // The first build's folder is left as it was: a worker may still run it.
    expect(await readFile(first.build.entry, 'utf8')).toBe(text);
  });

  it('reports a failed build with file and line, and leaves the last good build untouched', async () => {
    await source('export default () => 1;\n');
    const good = await builder.rebuild();
    if (!good.ok) throw new Error('the first build should succeed');
    const before = await readFile(good.build.entry, 'utf8');
    await source('export default () => {\n');
    const bad = await builder.rebuild();
    expect(bad.ok).toBe(false);
    if (bad.ok) return;
    expect(bad.errors).toMatch(/src\/app\.ts:\d+:\d+/);
    expect(await readFile(good.build.entry, 'utf8')).toBe(before);
  });

  it('gives the same release to the same sources, so a save that changed nothing reloads nothing', async () => {
    await source('export default () => 1;\n');
    const first = await builder.rebuild();
    await source('export default () => 1;\n');
    const second = await builder.rebuild();
    if (!first.ok || !second.ok) throw new Error('both builds should succeed');
    expect(second.hash).toBe(first.hash);
    expect(second.build).toEqual(first.build);
    // Any file may be read at run time (autoload, data files): a new one makes a new release.
    await writeFile(path.join(appDir, 'src', 'routes.ts'), 'export {};\n');
    const third = await builder.rebuild();
    expect(third.ok && third.hash !== first.hash).toBe(true);
  });

  it('links the files a save did not change from the release before, and writes the changed ones', async () => {
    await source("import { a } from './a';\nexport default () => a;\n");
    await writeFile(path.join(appDir, 'src', 'a.ts'), 'export const a = 1;\n');
    const first = await builder.rebuild();
    await source("import { a } from './a';\nexport default () => a + 1;\n");
    const second = await builder.rebuild();
    if (!first.ok || !second.ok) throw new Error('both builds should succeed');
    const inode = async (build: { entry: string }, name: string) => (await stat(path.join(path.dirname(build.entry), name))).ino;
    expect(await inode(second.build, 'a.js')).toBe(await inode(first.build, 'a.js'));
    expect(await inode(second.build, 'app.js')).not.toBe(await inode(first.build, 'app.js'));
    expect(await readFile(first.build.entry, 'utf8')).toContain('() => a;');
  });
});
