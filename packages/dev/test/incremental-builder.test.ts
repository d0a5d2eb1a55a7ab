import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IncrementalBuilder } from '../src/incremental-builder.js';

describe('IncrementalBuilder', () => {
  let appDir: string;
  let builder: IncrementalBuilder;
  beforeEach(async () => {
    appDir = await mkdtemp(path.join(tmpdir(), 'fw-dev-build-'));
    await mkdir(path.join(appDir, 'src'));
    builder = new IncrementalBuilder(appDir, 'src/app.ts');
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
    expect(await readFile(first.build.entry, 'utf8')).toMatch(/sourceMappingURL=app\.mjs\.map/);
    const map = JSON.parse(await readFile(`${first.build.entry}.map`, 'utf8')) as { sources: string[] };
    // Relative to the build folder, the sources point back at the app's .ts files.
    expect(path.resolve(path.dirname(first.build.entry), map.sources[0]!)).toBe(path.join(appDir, 'src', 'app.ts'));

    await source('export default () => 2;\n');
    const second = await builder.rebuild();
    expect(second.ok && second.build.entry).not.toBe(first.build.entry);
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

  it('gives the same hash to the same bundle, so saving a file the app does not import reloads nothing', async () => {
    await source('export default () => 1;\n');
    const first = await builder.rebuild();
    await writeFile(path.join(appDir, 'src', 'app.test.ts'), 'export {};\n');
    const second = await builder.rebuild();
    expect(first.ok && second.ok && first.hash === second.hash).toBe(true);
    await source('export default () => 2;\n');
    const third = await builder.rebuild();
    expect(first.ok && third.ok && first.hash !== third.hash).toBe(true);
  });
});
