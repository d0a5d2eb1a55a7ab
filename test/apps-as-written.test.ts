import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LoadStats, startLoad } from './helpers/load-client.js';
import { packWorkspace, type Tarballs, useTarballs } from './helpers/packed-fw.js';
import {
  addFwDependency,
  addRouteLikeExample,
  answerOf,
  cjsApp,
  DEV_READY,
  edit,
  esmApp,
  FASTIFY_CLI,
  firstAnswer,
  fwVersion,
  generateFastifyCliApp,
  get,
  installedFile,
  installedFw,
  npm,
  type RunningFw,
  runFw,
  SERVING,
  startFw,
  typecheck,
  writeCjsApp,
  writeDecoratorApp,
  writeEsmApp,
  writeMonorepo,
} from './helpers/written-apps.js';

/**
 * Apps as their ecosystems write them, each in a folder of its own outside the repository, with fw
 * installed from the workspace's packed tarballs as a user would install it from the registry:
 * fw build, fw start, fw reload and fw dev must run them with no change to how they are written
 * (`__dirname`, `import.meta.dirname`, `new URL(..., import.meta.url)`, files beside the sources,
 * CommonJS, a fastify-cli plugin, a workspace package exporting TypeScript, decorator metadata).
 * Each app has its own describe: one broken app hides none of the others.
 */

/** Kept-alive connections that never retry, during each reload under fw start. */
const CONNECTIONS = 8;
/** How long a change may take to answer under fw dev. */
const DEV_WAIT = { timeout: 30_000, interval: 100 };

let packs: string;
let tarballs: Tarballs | undefined;
let packError: unknown;

beforeAll(async () => {
  packs = await mkdtemp(path.join(tmpdir(), 'fw-written-packs-'));
  try {
    tarballs = await packWorkspace(packs);
  } catch (error) {
    packError = error;
  }
}, 150_000);
afterAll(async () => {
  await rm(packs, { recursive: true, force: true });
});

/** One app's temp folder, flags and running fw processes; all of it cleaned up after its describe. */
function appSuite(name: string) {
  const suite = {
    root: '',
    installed: false,
    running: new Set<RunningFw>(),
    /** Fails the test with a clear message when the app could not be installed. */
    needInstalled() {
      expect(suite.installed, `${name}: the app was not made or installed (see the failures above)`).toBe(true);
    },
    /** Runs `body` with a started fw (`fw start` or `fw dev`), and stops it whatever happens. */
    async run(cwd: string, args: string[], body: (fw: RunningFw) => Promise<void>) {
      const fw = await startFw(cwd, args, args[0] === 'dev' ? DEV_READY : SERVING);
      suite.running.add(fw);
      try {
        await body(fw);
      } catch (error) {
        if (error instanceof Error) error.message += `\n--- the last of what fw ${args[0]} printed:\n${fw.output().slice(-3000)}`;
        throw error;
      } finally {
        await fw.stop();
        suite.running.delete(fw);
      }
    },
  };
  beforeAll(async () => {
    suite.root = await mkdtemp(path.join(tmpdir(), `fw-written-${name}-`));
  });
  afterAll(async () => {
    for (const fw of suite.running) await fw.stop(0);
    if (suite.root) await rm(suite.root, { recursive: true, force: true });
  });
  return suite;
}

/** Points the app at the tarballs and runs `npm install` in it; checks fw came from the tarball. */
async function installFw(dir: string): Promise<void> {
  if (!tarballs) throw new Error(`the workspace could not be packed, so nothing can be installed: ${String(packError)}`);
  await useTarballs(dir, tarballs);
  const result = await npm(dir, ['install', '--no-audit', '--no-fund'], 240_000);
  expect(result.exitCode, result.all).toBe(0);
  const fwDir = path.dirname(path.dirname(installedFw(dir)));
  expect(JSON.parse(await readFile(path.join(fwDir, 'package.json'), 'utf8')).version).toBe(fwVersion);
  // Installed from the tarball: a copy, never a link back into the workspace.
  expect(existsSync(path.join(fwDir, 'src')), `${fwDir} is not the packed fw`).toBe(false);
}

async function build(cwd: string): Promise<void> {
  const built = await runFw(cwd, ['build']);
  expect(built.exitCode, `fw build:\n${built.all}`).toBe(0);
}

async function reload(cwd: string): Promise<void> {
  const reloaded = await runFw(cwd, ['reload']);
  expect(reloaded.exitCode, `fw reload:\n${reloaded.all}`).toBe(0);
}

/** Runs `during` under a kept-alive load on `path` that never retries; returns what the load saw. */
async function underLoad(url: string, loadPath: string, during: (load: ReturnType<typeof startLoad>) => Promise<void>): Promise<LoadStats> {
  const load = startLoad(url, { connections: CONNECTIONS, path: loadPath });
  try {
    await during(load);
  } finally {
    await load.stop();
  }
  return load.stats();
}

const START = ['start', '--port', '0', '--workers', '2'];
const DEV = ['dev', '--port', '0'];

describe(`the TypeScript app fastify-cli generates (${FASTIFY_CLI} generate myapp --lang=ts), sources untouched`, () => {
  const suite = appSuite('fastify-cli');
  let dir: string;
  let generated = false;
  /** src/routes/example/index.ts as generated: the model of the route added under fw dev. */
  let generatedExample = '';
  const rootRoute = () => path.join(dir, 'src', 'routes', 'root.ts');
  const exampleRoute = () => path.join(dir, 'src', 'routes', 'example', 'index.ts');

  it('is generated by the real generator: a plugin that autoloads src/plugins and src/routes from __dirname', async () => {
    const result = await generateFastifyCliApp(suite.root, 'myapp');
    dir = result.dir;
    expect(result.exitCode, result.all).toBe(0);
    expect(result.all).toContain('project myapp generated successfully');
    // What these tests rely on, as the generator writes it today.
    const app = await readFile(path.join(dir, 'src', 'app.ts'), 'utf8');
    expect(app).toContain("dir: join(__dirname, 'plugins')");
    expect(app).toContain("dir: join(__dirname, 'routes')");
    expect(app).toMatch(/const app: FastifyPluginAsync<AppOptions> = async \(\s*fastify,\s*opts\s*\)/);
    expect(app).toContain('export default app');
    expect(app).toContain('export { app, options }');
    expect(await readFile(rootRoute(), 'utf8')).toContain('return { root: true }');
    generatedExample = await readFile(exampleRoute(), 'utf8');
    expect(generatedExample).toContain("return 'this is an example'");
    const manifest = JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8'));
    expect(manifest.type).toBeUndefined(); // CommonJS: tsc compiles it to require() and __dirname
    generated = true;
  }, 200_000);

  it('installs its own dependencies and fw, from the tarballs', async () => {
    expect(generated, 'fastify-cli did not generate the app').toBe(true);
    await addFwDependency(dir);
    await installFw(dir);
    suite.installed = true;
  }, 260_000);

  it('fw build + fw start serve its routes; an edited route goes live by fw build + fw reload, failing no kept-alive request', async () => {
    suite.needInstalled();
    await build(dir);
    await suite.run(dir, START, async (server) => {
      expect(await get(`${server.url}/`)).toMatchObject({ status: 200, text: '{"root":true}' });
      expect(await get(`${server.url}/example`)).toMatchObject({ status: 200, text: 'this is an example' });

      const stats = await underLoad(server.url, '/', async (load) => {
        await load.waitForVersion('?', 10_000); // {"root":true}: no version yet
        await edit(rootRoute(), 'return { root: true }', "return { root: true, version: 'v2' }");
        await build(dir);
        expect((await get(`${server.url}/`)).text, 'a build alone changed what runs').toBe('{"root":true}');
        await reload(dir);
        expect(await get(`${server.url}/`)).toMatchObject({ status: 200, text: '{"root":true,"version":"v2"}' });
        await load.waitForVersion('v2', 10_000);
      });
      expect(stats.failed, JSON.stringify(stats)).toBe(0);
      expect(stats.versions['?']).toBeGreaterThan(0);
      expect(stats.versions.v2).toBeGreaterThan(0);
      expect(await get(`${server.url}/example`)).toMatchObject({ status: 200, text: 'this is an example' });
    });
  }, 180_000);

  it('fw dev serves it; an edited route goes live, and so does a route file added while fw dev runs', async () => {
    suite.needInstalled();
    await suite.run(dir, DEV, async (dev) => {
      await firstAnswer(`${dev.url}/example`, '200 this is an example');
      expect(await answerOf(`${dev.url}/`)).toMatch(/^200 \{"root":true/);

      await edit(exampleRoute(), "'this is an example'", "'this is an edited example'");
      await expect.poll(() => answerOf(`${dev.url}/example`), DEV_WAIT).toBe('200 this is an edited example');

      expect(await answerOf(`${dev.url}/added`)).toMatch(/^404 /);
      const added = await addRouteLikeExample(dir, generatedExample, 'added', 'this route was added while fw dev ran');
      expect(await readFile(added, 'utf8')).toMatch(/const added: FastifyPluginAsync = async \(fastify, opts\)[\s\S]*export default added/);
      await expect.poll(() => answerOf(`${dev.url}/added`), DEV_WAIT).toBe('200 this route was added while fw dev ran');
      expect(await answerOf(`${dev.url}/example`)).toBe('200 this is an edited example');
    });
  }, 180_000);
});

describe('an ESM app that finds its files beside its modules (import.meta.url, import.meta.dirname, ../public)', () => {
  const suite = appSuite('esm');
  const dir = () => path.join(suite.root, 'esm-app');

  it('is written and installed with fw from the tarballs', async () => {
    await writeEsmApp(dir());
    await installFw(dir());
    suite.installed = true;
  }, 260_000);

  it('type-checks with its own TypeScript', async () => {
    suite.needInstalled();
    const result = await typecheck(dir());
    expect(result.exitCode, result.all).toBe(0);
  }, 120_000);

  it('fw build + fw start serve data.json, sql/query.sql and public/; changed data goes live by fw build + fw reload only, failing no kept-alive request', async () => {
    suite.needInstalled();
    await build(dir());
    await suite.run(dir(), START, async (server) => {
      const home = await get(`${server.url}/`);
      expect(home).toMatchObject({ status: 200, text: esmApp.indexHtml });
      expect(home.type).toMatch(/^text\/html/);
      const data = await get(`${server.url}/data`);
      expect(data.status, data.text).toBe(200);
      expect(JSON.parse(data.text)).toEqual(esmApp.data);
      expect(await get(`${server.url}/query`)).toMatchObject({ status: 200, text: esmApp.query });

      const dataVersion = async () => (JSON.parse((await get(`${server.url}/data`)).text) as { version?: string }).version;
      const changed = { ...esmApp.data, version: 'data-v2', items: ['plum'] };
      const stats = await underLoad(server.url, '/data', async (load) => {
        await load.waitForVersion('data-v1', 10_000);
        await writeFile(path.join(dir(), 'src', 'data.json'), `${JSON.stringify(changed)}\n`);
        expect(await dataVersion(), 'the running generation read the edited source tree').toBe('data-v1');
        await build(dir());
        expect(await dataVersion(), 'a build alone changed what runs').toBe('data-v1');
        await reload(dir());
        expect(JSON.parse((await get(`${server.url}/data`)).text)).toEqual(changed);
        await load.waitForVersion('data-v2', 10_000);
      });
      expect(stats.failed, JSON.stringify(stats)).toBe(0);
      expect(stats.versions['data-v1']).toBeGreaterThan(0);
      expect(stats.versions['data-v2']).toBeGreaterThan(0);
      expect(await get(`${server.url}/`)).toMatchObject({ status: 200, text: esmApp.indexHtml });
      expect(await get(`${server.url}/query`)).toMatchObject({ status: 200, text: esmApp.query });
    });
  }, 180_000);

  it('fw dev serves the same files; an edited route goes live', async () => {
    suite.needInstalled();
    await suite.run(dir(), DEV, async (dev) => {
      await firstAnswer(`${dev.url}/hello`, '200 {"hello":"world"}');
      expect(await answerOf(`${dev.url}/query`)).toBe(`200 ${esmApp.query}`);
      expect(await answerOf(`${dev.url}/`)).toBe(`200 ${esmApp.indexHtml}`);
      expect(await answerOf(`${dev.url}/data`)).toMatch(/^200 \{"version":"data-v\d"/);

      await edit(path.join(dir(), 'src', 'routes', 'hello.ts'), "hello: 'world'", "hello: 'edited world'");
      await expect.poll(() => answerOf(`${dev.url}/hello`), DEV_WAIT).toBe('200 {"hello":"edited world"}');
    });
  }, 180_000);
});

describe('a CommonJS app (require, module.exports, __dirname, ../package.json, ../views)', () => {
  const suite = appSuite('cjs');
  const dir = () => path.join(suite.root, 'cjs-app');
  const greetFile = () => path.join(dir(), 'src', 'greet.ts');

  it('is written and installed with fw from the tarballs', async () => {
    await writeCjsApp(dir());
    await installFw(dir());
    suite.installed = true;
  }, 260_000);

  it('type-checks with its own TypeScript', async () => {
    suite.needInstalled();
    const result = await typecheck(dir());
    expect(result.exitCode, result.all).toBe(0);
  }, 120_000);

  it('fw build + fw start serve it; an edit goes live by fw build + fw reload', async () => {
    suite.needInstalled();
    await build(dir());
    await suite.run(dir(), START, async (server) => {
      const home = await get(`${server.url}/`);
      expect(home).toMatchObject({ status: 200, text: cjsApp.indexHtml });
      expect(home.type).toMatch(/^text\/html/);
      expect(await get(`${server.url}/greet/fw`)).toMatchObject({ status: 200, text: '{"greeting":"hello, fw"}' });
      expect(await get(`${server.url}/info`)).toMatchObject({ status: 200, text: `{"version":"${cjsApp.version}","cacheFor":172800000}` });

      await edit(greetFile(), "const GREETING = 'hello';", "const GREETING = 'howdy';");
      await build(dir());
      expect((await get(`${server.url}/greet/fw`)).text, 'a build alone changed what runs').toBe('{"greeting":"hello, fw"}');
      await reload(dir());
      expect(await get(`${server.url}/greet/fw`)).toMatchObject({ status: 200, text: '{"greeting":"howdy, fw"}' });
      expect(await get(`${server.url}/`)).toMatchObject({ status: 200, text: cjsApp.indexHtml });
    });
  }, 180_000);

  it('fw dev serves it; an edit goes live', async () => {
    suite.needInstalled();
    await suite.run(dir(), DEV, async (dev) => {
      await firstAnswer(`${dev.url}/info`, `200 {"version":"${cjsApp.version}","cacheFor":172800000}`);
      expect(await answerOf(`${dev.url}/`)).toBe(`200 ${cjsApp.indexHtml}`);
      await edit(greetFile(), /const GREETING = '[^']*';/, "const GREETING = 'ahoy';");
      await expect.poll(() => answerOf(`${dev.url}/greet/fw`), DEV_WAIT).toBe('200 {"greeting":"ahoy, fw"}');
    });
  }, 180_000);
});

describe('an npm-workspaces monorepo: apps/web imports @acme/shared, a just-in-time package exporting its TypeScript source', () => {
  const suite = appSuite('monorepo');
  let web: string;
  let shared: string;
  const greetingFile = () => path.join(shared, 'src', 'greeting.ts');

  it('is written and installed with fw (a dependency of apps/web) from the tarballs, through the root overrides', async () => {
    ({ web, shared } = await writeMonorepo(suite.root));
    await installFw(suite.root);
    // The workspace package is linked, as npm does it; fw is hoisted to the root.
    expect(existsSync(path.join(suite.root, 'node_modules', '@acme', 'shared', 'src', 'index.ts'))).toBe(true);
    expect(installedFile(web, path.join('fw', 'package.json'))).toBe(path.join(suite.root, 'node_modules', 'fw', 'package.json'));
    suite.installed = true;
  }, 260_000);

  it('type-checks with its own TypeScript', async () => {
    suite.needInstalled();
    for (const project of [web, shared]) {
      const result = await typecheck(project);
      expect(result.exitCode, `${project}:\n${result.all}`).toBe(0);
    }
  }, 120_000);

  it('fw build + fw start in apps/web serve the shared value; an edit in packages/shared goes live by fw build + fw reload', async () => {
    suite.needInstalled();
    await build(web);
    await suite.run(web, START, async (server) => {
      expect(await get(`${server.url}/`)).toMatchObject({ status: 200, text: '{"greeting":"hello from @acme/shared, web","loud":"WEB!"}' });

      await edit(greetingFile(), "'hello from @acme/shared'", "'hi from the edited @acme/shared'");
      await build(web);
      expect((await get(`${server.url}/`)).text, 'a build alone changed what runs').toBe('{"greeting":"hello from @acme/shared, web","loud":"WEB!"}');
      await reload(web);
      expect(await get(`${server.url}/`)).toMatchObject({ status: 200, text: '{"greeting":"hi from the edited @acme/shared, web","loud":"WEB!"}' });
    });
  }, 180_000);

  it('fw dev apps/web, from the monorepo root: an edit in packages/shared goes live', async () => {
    suite.needInstalled();
    await suite.run(suite.root, ['dev', 'apps/web', '--port', '0'], async (dev) => {
      await firstAnswer(`${dev.url}/`, /^200 \{"greeting":"h\w+ from (the edited )?@acme\/shared, web","loud":"WEB!"\}$/);
      await edit(greetingFile(), /export const GREETING = '[^']*';/, "export const GREETING = 'hey from @acme/shared under fw dev';");
      await expect.poll(() => answerOf(`${dev.url}/`), DEV_WAIT).toBe('200 {"greeting":"hey from @acme/shared under fw dev, web","loud":"WEB!"}');
    });
  }, 180_000);
});

describe('constructor injection by type (tsyringe, emitDecoratorMetadata, no @inject tokens)', () => {
  const suite = appSuite('decorators');
  const dir = () => path.join(suite.root, 'di-app');

  it('is written and installed with fw from the tarballs', async () => {
    await writeDecoratorApp(dir());
    await installFw(dir());
    suite.installed = true;
  }, 260_000);

  it('type-checks with its own TypeScript', async () => {
    suite.needInstalled();
    const result = await typecheck(dir());
    expect(result.exitCode, result.all).toBe(0);
  }, 120_000);

  it('fw build + fw start answer with the value of a service injected by its constructor type', async () => {
    suite.needInstalled();
    await build(dir());
    await suite.run(dir(), START, async (server) => {
      expect(await get(`${server.url}/hello/fw`)).toMatchObject({ status: 200, text: '{"greeting":"hello from an injected service, fw"}' });
    });
  }, 180_000);

  it('fw dev serves it; an edit of the injected service goes live', async () => {
    suite.needInstalled();
    await suite.run(dir(), DEV, async (dev) => {
      await firstAnswer(`${dev.url}/hello/fw`, '200 {"greeting":"hello from an injected service, fw"}');
      await edit(path.join(dir(), 'src', 'services', 'config.ts'), "'hello from an injected service'", "'hello from an edited service'");
      await expect.poll(() => answerOf(`${dev.url}/hello/fw`), DEV_WAIT).toBe('200 {"greeting":"hello from an edited service, fw"}');
    });
  }, 180_000);
});
