// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the strings are module sources that hold template literals
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { execFile } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BuildError, MissingEntryError } from '../src/errors.js';
import { commonAncestor, ReleaseBuilder } from '../src/release-builder.js';
import { writeRelease } from '../src/release-writer.js';

const run = promisify(execFile);

/** Writes files (path → text) under `root`, making folders as needed. */
async function files(root: string, tree: Record<string, string>): Promise<void> {
  for (const [name, text] of Object.entries(tree)) {
    await mkdir(path.dirname(path.join(root, name)), { recursive: true });
    await writeFile(path.join(root, name), text);
  }
}

describe('ReleaseBuilder', () => {
  let root: string;
  let builders: ReleaseBuilder[];
  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'fw-release-'));
    builders = [];
  });
  afterEach(async () => {
    await Promise.all(builders.map((builder) => builder.dispose()));
    await rm(root, { recursive: true, force: true });
  });

  /** Builds `appDir`'s entry, writes the release and imports its entry. */
  const release = async (appDir: string, entry = 'src/app.ts') => {
    const builder = new ReleaseBuilder(appDir, entry);
    builders.push(builder);
    const made = await builder.build();
    const folder = path.join(appDir, '.fw', 'builds', `test-${builders.length}`);
    await writeRelease(folder, made);
    return { made, folder, entry: path.join(folder, made.entry) };
  };
  const load = async (entry: string) => (await import(`${pathToFileURL(entry).href}?t=${Math.random()}`)) as Record<string, unknown>;

  it('keeps an ES module app\'s layout: import.meta, data files and ../public mean what they mean in the source', async () => {
    const app = path.join(root, 'esm');
    await files(app, {
      'package.json': '{ "type": "module" }',
      'src/app.ts': [
        "import { readFileSync } from 'node:fs';",
        "import { join } from 'node:path';",
        "import data from './data.json' with { type: 'json' };",
        "import { route } from './routes/a';",
        "import { b } from './routes/b.js';",
        'export default () => ({',
        '  data, route: route(), b,',
        "  sql: readFileSync(join(import.meta.dirname, 'sql', 'q.sql'), 'utf8'),",
        "  page: readFileSync(join(import.meta.dirname, '..', 'public', 'index.html'), 'utf8'),",
        "  url: readFileSync(new URL('./data.json', import.meta.url), 'utf8').trim(),",
        '});',
      ].join('\n'),
      'src/data.json': '{ "n": 1 }',
      'src/sql/q.sql': 'select 1',
      'src/routes/a.ts': "export const route = (): string => 'a';",
      'src/routes/b.ts': "export const b: string = 'b';",
      'public/index.html': '<h1>hi</h1>',
    });
    const { made, folder, entry } = await release(app);
    expect(made.entry).toBe('src/app.js');
    expect(made.files.map((file) => file.path)).toEqual(expect.arrayContaining(['src/app.js', 'src/routes/a.js', 'src/data.json', 'public/index.html', 'package.json']));
    expect(made.files.some((file) => file.path.endsWith('.ts'))).toBe(false);
    const value = ((await load(entry)).default as () => Record<string, unknown>)();
    expect(value).toEqual({ data: { n: 1 }, route: 'a', b: 'b', sql: 'select 1', page: '<h1>hi</h1>', url: '{ "n": 1 }' });
    // The release reads its own copies, not the live source tree.
    await writeFile(path.join(app, 'src', 'data.json'), '{ "n": 2 }');
    expect(await readFile(path.join(folder, 'src', 'data.json'), 'utf8')).toBe('{ "n": 1 }');
  });

  it('keeps CommonJS CommonJS: require, module.exports, __dirname and package.json', async () => {
    const app = path.join(root, 'cjs');
    await files(app, {
      'package.json': '{ "name": "cjs", "version": "1.2.3" }',
      'src/app.ts': [
        "const fs = require('node:fs');",
        "const path = require('node:path');",
        "const { greet } = require('./greet');",
        "const pkg = require('../package.json');",
        "module.exports = () => ({ greet: greet('x'), version: pkg.version, view: fs.readFileSync(path.join(__dirname, '..', 'views', 'i.html'), 'utf8') });",
      ].join('\n'),
      'src/greet.ts': "exports.greet = (name: string) => 'hello ' + name;",
      'views/i.html': 'view',
    });
    const { entry } = await release(app);
    expect(await readFile(entry, 'utf8')).toContain('require("./greet.js")');
    const value = ((await load(entry)).default as () => unknown)();
    expect(value).toEqual({ greet: 'hello x', version: '1.2.3', view: 'view' });
  });

  it('keeps computed requires and imports as calls Node resolves in the release (no build-time table)', async () => {
    const app = path.join(root, 'computed');
    await files(app, {
      'package.json': '{}',
      'src/app.ts': [
        "const fs = require('node:fs');",
        "const path = require('node:path');",
        "const names = fs.readdirSync(path.join(__dirname, 'plugins')).filter((file: string) => file.endsWith('.js'));",
        "let optional = 'none';",
        "try { optional = require('./local-config').value; } catch {}",
        "module.exports = async () => ({ plugins: names.map((file: string) => require('./plugins/' + file).name), lazy: (await import(`./lazy/${'b'}.js`)).b, optional });",
      ].join('\n'),
      'src/plugins/one.ts': "exports.name = 'one';",
      'src/plugins/two.ts': "exports.name = 'two';",
      'src/lazy/b.ts': "exports.b = 'lazy b';",
    });
    const { entry } = await release(app);
    const text = await readFile(entry, 'utf8');
    expect(text).not.toContain('one.ts');
    // In a Node of its own: the test runner would handle the module's import() itself.
    const script = `import(process.argv[1]).then(async (m) => console.log(JSON.stringify(await m.default())))`;
    const { stdout } = await run(process.execPath, ['-e', script, pathToFileURL(entry).href]);
    expect(JSON.parse(stdout)).toEqual({ plugins: ['one', 'two'], lazy: 'lazy b', optional: 'none' });
  });

  it('follows .mts and .cts, whatever the package type', async () => {
    const app = path.join(root, 'mixed');
    await files(app, {
      'package.json': '{}',
      'src/app.mts': "import { n } from './n.cjs';\nexport default n + 1;",
      'src/n.cts': 'export const n: number = 41;',
    });
    const { made, entry } = await release(app, 'src/app.mts');
    expect(made.entry).toBe('src/app.mjs');
    expect((await load(entry)).default).toBe(42);
  });

  it('builds a linked workspace package into the release and watches it, found through the imports', async () => {
    const repo = path.join(root, 'repo');
    await files(repo, {
      'package.json': '{ "private": true, "workspaces": ["apps/*", "packages/*"] }',
      'packages/shared/package.json': '{ "name": "@acme/shared", "type": "module", "exports": { ".": "./src/index.ts" } }',
      'packages/shared/src/index.ts': "export * from './greeting';",
      'packages/shared/src/greeting.ts': "export const greeting = (): string => 'from shared';",
      'apps/web/package.json': '{ "name": "web", "type": "module" }',
      'apps/web/src/app.ts': "import { greeting } from '@acme/shared';\nexport default greeting();",
    });
    await mkdir(path.join(repo, 'node_modules', '@acme'), { recursive: true });
    await symlink('../../packages/shared', path.join(repo, 'node_modules', '@acme', 'shared'));
    const app = path.join(repo, 'apps', 'web');
    const { made, folder, entry } = await release(app);
    expect(made.root).toBe(repo);
    expect(made.entry).toBe('apps/web/src/app.js');
    expect(made.roots).toEqual([app, path.join(repo, 'packages', 'shared')]);
    expect(made.packages).toEqual([]);
    expect(await readFile(entry, 'utf8')).toContain('"../../../packages/shared/src/index.js"');
    expect((await load(entry)).default).toBe('from shared');
    // The release resolves installed packages through the source tree's node_modules.
    expect(existsSync(path.join(folder, 'node_modules', '@acme'))).toBe(true);
  });

  it('resolves tsconfig paths to the app\'s own modules and leaves installed packages to Node', async () => {
    const app = path.join(root, 'paths');
    await files(app, {
      'package.json': '{ "type": "module" }',
      'tsconfig.json': '{ "compilerOptions": { "baseUrl": ".", "paths": { "@/*": ["src/*"] } } }',
      'src/app.ts': "import { x } from '@/lib/x';\nimport ms from 'ms';\nexport default x + typeof ms;",
      'src/lib/x.ts': "export const x: string = 'x';",
      'node_modules/ms/package.json': '{ "name": "ms", "main": "index.js" }',
      'node_modules/ms/index.js': 'module.exports = () => 1;',
    });
    const { made, entry } = await release(app);
    expect(await readFile(entry, 'utf8')).toContain('"./lib/x.js"');
    expect(made.packages).toEqual(['ms']);
    expect((await load(entry)).default).toBe('xfunction');
  });

  it('emits decorator metadata when the tsconfig asks for it (constructor injection)', async () => {
    const app = path.join(root, 'decorators');
    await files(app, {
      'package.json': '{ "type": "module" }',
      'tsconfig.json': '{ "compilerOptions": { "experimentalDecorators": true, "emitDecoratorMetadata": true } }',
      'src/app.ts': [
        "import { Dep } from './dep';",
        'const types: unknown[][] = [];',
        'const record = (target: object) => { types.push((Reflect as any).getMetadata?.("design:paramtypes", target) ?? (target as any).__params); };',
        '(Reflect as any).metadata = (key: string, value: unknown) => (target: any) => { if (key === "design:paramtypes") target.__params = value; };',
        '@record',
        'class Service { constructor(readonly dep: Dep) {} }',
        'export default () => (Service as any).__params?.[0] === Dep;',
      ].join('\n'),
      'src/dep.ts': 'export class Dep {}',
    });
    const { entry } = await release(app);
    expect(((await load(entry)).default as () => boolean)()).toBe(true);
  });

  it('reports a broken module with file, line and frame, and a relative import that does not resolve', async () => {
    const app = path.join(root, 'broken');
    await files(app, { 'package.json': '{}', 'src/app.ts': 'export default () => {\n' });
    const builder = new ReleaseBuilder(app, 'src/app.ts');
    builders.push(builder);
    await expect(builder.build()).rejects.toThrow(BuildError);
    await expect(builder.build()).rejects.toThrow(/src\/app\.ts:\d+:\d+/);
    await writeFile(path.join(app, 'src', 'app.ts'), "import { x } from './missing';\nexport default x;\n");
    await expect(builder.build()).rejects.toThrow(/Could not resolve "\.\/missing"/);
  });

  it('builds again only the modules that changed, and all of them when which files exist changes', async () => {
    const app = path.join(root, 'incremental');
    await files(app, {
      'package.json': '{ "type": "module" }',
      'src/app.ts': "import { lib } from './lib';\nexport default lib;",
      'src/lib.ts': "export const lib: string = 'file';",
    });
    const builder = new ReleaseBuilder(app, 'src/app.ts');
    builders.push(builder);
    const first = await builder.build();
    const output = (made: typeof first, name: string) => made.files.find((file) => file.path === name);
    await writeFile(path.join(app, 'src', 'lib.ts'), "export const lib: string = 'changed';");
    const second = await builder.build();
    // The unchanged module's output is the very same object: it was not built again.
    expect(output(second, 'src/app.js')).toBe(output(first, 'src/app.js'));
    expect(output(second, 'src/lib.js')).not.toBe(output(first, 'src/lib.js'));
    // `./lib` now names a folder's index: the unchanged app.ts must be built again to say so.
    await rm(path.join(app, 'src', 'lib.ts'));
    await files(app, { 'src/lib/index.ts': "export const lib: string = 'folder';" });
    const third = await builder.build();
    expect(new TextDecoder().decode(output(third, 'src/app.js')?.contents)).toContain('"./lib/index.js"');
  });

  it('puts JSON an ES module imports without attributes into the module, and builds it again when the JSON changes', async () => {
    const app = path.join(root, 'json');
    await files(app, {
      'package.json': '{ "type": "module" }',
      'src/app.ts': "import data from './data/config.json';\nexport default data.n;",
      'src/data/config.json': '{ "n": 1 }',
    });
    // As fw dev builds: the data folder holds no module, so it is linked, not copied.
    const builder = new ReleaseBuilder(app, 'src/app.ts', { linkStaticFolders: true });
    builders.push(builder);
    const text = async (made: Awaited<ReturnType<ReleaseBuilder['build']>>) =>
      new TextDecoder().decode(made.files.find((file) => file.path === 'src/app.js')?.contents);
    expect(await text(await builder.build())).toMatch(/n: 1/);
    await writeFile(path.join(app, 'src', 'data', 'config.json'), '{ "n": 22 }');
    expect(await text(await builder.build())).toMatch(/n: 22/);
  });

  it('refuses an entry that does not exist, naming the fix', async () => {
    const builder = new ReleaseBuilder(root, 'src/app.ts');
    builders.push(builder);
    await expect(builder.build()).rejects.toThrow(MissingEntryError);
    await expect(builder.build()).rejects.toThrow(/entry src\/app\.ts not found .*set "entry" in fw\.config\.ts or --entry/);
  });

  it('leaves fw.config.ts, type declarations, tests and node_modules out, and keeps file modes', async () => {
    const app = path.join(root, 'out');
    await files(app, {
      'package.json': '{}',
      'fw.config.ts': "import { defineConfig } from 'fwjs';\nexport default defineConfig({});",
      'src/app.ts': 'export default 1;',
      'src/types.d.ts': 'declare const x: number;',
      'node_modules/x/index.js': '',
      'secret.env': 'TOKEN=1',
      'src/app.test.ts': "import { test } from 'vitest';\ntest('x', () => {});",
      'src/__tests__/a.ts': 'export {};',
      'test/helper.ts': 'export {};',
    });
    const { chmod } = await import('node:fs/promises');
    await chmod(path.join(app, 'secret.env'), 0o600);
    const { made, folder } = await release(app);
    expect(made.files.map((file) => file.path).sort()).toEqual(['package.json', 'secret.env', 'src/app.js']);
    expect((await stat(path.join(folder, 'secret.env'))).mode & 0o777).toBe(0o600);
  });
});

describe('ReleaseBuilder for fw dev (linkStaticFolders)', () => {
  let app: string;
  beforeEach(async () => {
    app = await mkdtemp(path.join(tmpdir(), 'fw-release-dev-'));
  });
  afterEach(async () => {
    await rm(app, { recursive: true, force: true });
  });

  it('links a folder without modules instead of copying its files, and copies any folder that holds one', async () => {
    await files(app, {
      'package.json': '{ "type": "module" }',
      'src/app.ts': 'export default 1;',
      'src/sql/q.sql': 'select 1',
      'public/css/site.css': 'body {}',
      'public/index.html': '<h1>hi</h1>',
      'scripts/tool.js': 'export default 2;',
      'scripts/data.txt': 'x',
    });
    const builder = new ReleaseBuilder(app, 'src/app.ts', { linkStaticFolders: true });
    try {
      const made = await builder.build();
      expect(made.files.filter((file) => file.link).map((file) => file.path).sort()).toEqual(['public', 'src/sql']);
      expect(made.files.map((file) => file.path)).toEqual(expect.arrayContaining(['scripts/tool.js', 'scripts/data.txt']));
      expect(made.files.some((file) => file.path.startsWith('public/'))).toBe(false);
      const folder = path.join(app, '.fw', 'dev', 'builds', 'dev-1');
      await writeRelease(folder, made);
      expect(await readFile(path.join(folder, 'public', 'css', 'site.css'), 'utf8')).toBe('body {}');
    } finally {
      await builder.dispose();
    }
  });
});

describe('commonAncestor', () => {
  it('is the deepest folder holding all of them', () => {
    expect(commonAncestor(['/a/b/c', '/a/b/d/e'])).toBe('/a/b');
    expect(commonAncestor(['/a/b', '/a/bc'])).toBe('/a');
    expect(commonAncestor(['/a/b'])).toBe('/a/b');
    expect(commonAncestor(['/a/b', '/x'])).toBe('/');
  });
});
