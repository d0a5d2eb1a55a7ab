import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CancelledError, CreateError } from '../src/errors.js';
import { FW_VERSION, scaffold, templateFiles } from '../src/scaffold.js';
import { TEMPLATES, templatesDir } from '../src/templates.js';
import { listFiles, snapshot } from './tree.js';

describe('scaffold', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'create-fw-scaffold-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('knows exactly the template folders there are', async () => {
    const folders = (await readdir(templatesDir, { withFileTypes: true })).filter((entry) => entry.isDirectory()).map((entry) => entry.name);
    expect(folders.sort()).toEqual(TEMPLATES.map((template) => template.name).sort());
  });

  it.each(TEMPLATES.map((template) => template.name))('copies every file of the %s template, _gitignore as .gitignore', async (template) => {
    const target = path.join(root, 'my-app');
    const result = await scaffold({ targetDir: target, template });
    const expected = (await templateFiles(template)).map((file) => file.relative).sort();
    expect(result.files).toEqual(expected);
    expect(await listFiles(target)).toEqual(expected);
    expect(expected).toEqual(expect.arrayContaining(['.gitignore', 'README.md', 'fw.config.ts', 'package.json', 'src/app.ts', 'test/app.test.ts', 'tsconfig.json']));
    expect(expected).not.toContain('_gitignore');
    // Plain files are copied byte for byte.
    for (const file of ['src/app.ts', 'test/app.test.ts', 'tsconfig.json', 'fw.config.ts']) {
      expect(await readFile(path.join(target, file), 'utf8')).toBe(await readFile(path.join(templatesDir, template, file), 'utf8'));
    }
    expect(await readFile(path.join(target, '.gitignore'), 'utf8')).toMatch(/^node_modules\/$/m);
  });

  it.each(TEMPLATES.map((template) => template.name))('fills in the %s app name and the fw version, and its scripts call fw', async (template) => {
    const target = path.join(root, 'shop-api');
    await scaffold({ targetDir: target, template });
    const manifest = JSON.parse(await readFile(path.join(target, 'package.json'), 'utf8'));
    expect(manifest.name).toBe('shop-api');
    expect(manifest.dependencies.fwjs).toBe(`^${FW_VERSION}`);
    expect(manifest.dependencies.fw).toBeUndefined();
    expect(manifest.scripts).toMatchObject({ dev: 'fw dev', build: 'fw build', start: 'fw start', test: 'vitest run' });
    expect(await readFile(path.join(target, 'README.md'), 'utf8')).toMatch(/^# shop-api\n/);
    expect(await readFile(path.join(target, 'README.md'), 'utf8')).not.toContain('{{name}}');
  });

  it('depends on fw at this repository version', async () => {
    const cli = JSON.parse(await readFile(new URL('../../cli/package.json', import.meta.url), 'utf8'));
    expect(FW_VERSION).toBe(cli.version);
  });

  it('gives the fastify template Fastify, a factory and its routes in their own files; minimal no Fastify', async () => {
    await scaffold({ targetDir: path.join(root, 'a'), template: 'fastify' });
    const fastify = JSON.parse(await readFile(path.join(root, 'a', 'package.json'), 'utf8'));
    expect(Object.keys(fastify.dependencies)).toContain('fastify');
    expect(await readFile(path.join(root, 'a', 'src', 'app.ts'), 'utf8')).toMatch(/export default async function createApp\(\)/);
    expect(await readdir(path.join(root, 'a', 'src', 'routes'))).not.toHaveLength(0);
    expect(await readFile(path.join(root, 'a', 'test', 'app.test.ts'), 'utf8')).toContain('app.inject');
    expect(await readFile(path.join(root, 'a', 'fw.config.ts'), 'utf8')).toContain('defineConfig');

    await scaffold({ targetDir: path.join(root, 'b'), template: 'minimal' });
    const minimal = JSON.parse(await readFile(path.join(root, 'b', 'package.json'), 'utf8'));
    expect(JSON.stringify(minimal)).not.toContain('fastify');
    expect(await readFile(path.join(root, 'b', 'src', 'app.ts'), 'utf8')).toMatch(/export default function app\(req: IncomingMessage, res: ServerResponse\)/);
  });

  it('creates missing parent folders and an empty target folder counts (a .git in it too)', async () => {
    await scaffold({ targetDir: path.join(root, 'deep', 'er', 'app'), template: 'minimal' });
    expect(existsSync(path.join(root, 'deep', 'er', 'app', 'package.json'))).toBe(true);
    await mkdir(path.join(root, 'has-git', '.git'), { recursive: true });
    await scaffold({ targetDir: path.join(root, 'has-git'), template: 'minimal' });
    expect(existsSync(path.join(root, 'has-git', 'src', 'app.ts'))).toBe(true);
  });

  describe('refusals: a one-line CreateError, and the target untouched', () => {
    const refused = async (options: Parameters<typeof scaffold>[0], message: RegExp) => {
      const before = await snapshot(options.targetDir);
      const error = await scaffold(options).then(() => undefined, (caught: unknown) => caught);
      expect(error).toBeInstanceOf(CreateError);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).not.toContain('\n');
      expect(await snapshot(options.targetDir)).toEqual(before);
    };

    it('a folder that is not empty, without force', async () => {
      const target = path.join(root, 'busy');
      await mkdir(path.join(target, 'src'), { recursive: true });
      await writeFile(path.join(target, 'package.json'), '{"name":"mine"}');
      await writeFile(path.join(target, 'src', 'app.ts'), 'mine');
      await refused({ targetDir: target, template: 'fastify' }, /^folder .*busy is not empty: pick another folder, or pass --force/);
    });

    it('an unknown template, naming the known ones', async () => {
      await refused({ targetDir: path.join(root, 'new-app'), template: 'vue' }, /^unknown template "vue": the templates are fastify, minimal$/);
      const empty = path.join(root, 'empty');
      await mkdir(empty);
      await refused({ targetDir: empty, template: 'vue' }, /unknown template/);
    });

    it('a name that is not a valid npm package name', async () => {
      await refused({ targetDir: path.join(root, 'My App'), template: 'fastify' }, /^"My App" is not a valid npm package name \(name can only contain URL-friendly characters\)/);
      await refused({ targetDir: path.join(root, 'Caps'), template: 'fastify' }, /"Caps" is not a valid npm package name \(name can no longer contain capital letters\)/);
      await refused({ targetDir: path.join(root, '.hidden'), template: 'fastify' }, /name cannot start with a period/);
      await refused({ targetDir: path.join(root, 'node_modules'), template: 'fastify' }, /not a valid npm package name/);
      await refused({ targetDir: path.join(root, 'fine'), name: 'http', template: 'fastify' }, /"http" is not a valid npm package name \(http is a core module name\)/);
    });

    it('a path that is a file', async () => {
      const file = path.join(root, 'a-file');
      await writeFile(file, 'x');
      await refused({ targetDir: file, template: 'fastify' }, /a-file exists and is not a folder/);
    });
  });

  it('with force, writes the template over a non-empty folder and keeps the other files', async () => {
    const target = path.join(root, 'busy');
    await mkdir(target);
    await writeFile(path.join(target, 'notes.txt'), 'keep me');
    await writeFile(path.join(target, 'package.json'), '{"name":"old"}');
    await scaffold({ targetDir: target, template: 'minimal', force: true });
    expect(await readFile(path.join(target, 'notes.txt'), 'utf8')).toBe('keep me');
    expect(JSON.parse(await readFile(path.join(target, 'package.json'), 'utf8')).name).toBe('busy');
  });

  it('an abort while writing removes everything it had created, and only that', async () => {
    // A signal that turns aborted after a few files were written.
    let checks = 0;
    const abortsLater = { get aborted() { return ++checks > 4; } } as AbortSignal;
    const fresh = path.join(root, 'parent', 'fresh');
    await expect(scaffold({ targetDir: fresh, template: 'fastify', signal: abortsLater })).rejects.toBeInstanceOf(CancelledError);
    expect(existsSync(path.join(root, 'parent'))).toBe(false);

    checks = 0;
    const existing = path.join(root, 'existing');
    await mkdir(path.join(existing, '.git'), { recursive: true });
    const before = await snapshot(existing, { mtimes: false });
    await expect(scaffold({ targetDir: existing, template: 'fastify', signal: abortsLater })).rejects.toBeInstanceOf(CancelledError);
    expect(await snapshot(existing, { mtimes: false })).toEqual(before);
  });
});
