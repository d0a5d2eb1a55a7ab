/**
 * Apps written the way their own ecosystems write them, for test/apps-as-written.test.ts: the
 * app that fastify-cli's generator makes, an ESM app reading files next to its modules, a
 * CommonJS app, an npm-workspaces monorepo with a just-in-time TypeScript package, and a
 * tsyringe app that needs decorator metadata. Each one lives outside the repository and gets fw
 * from the packed tarballs, as a user would from the registry; the fw it runs is the installed one.
 * The package.json and tsconfig.json these apps start from are the ones listen-apps.ts writes too.
 */
import { existsSync } from 'node:fs';
import http from 'node:http';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stripVTControlCharacters } from 'node:util';
import { execa } from 'execa';
import { repoRoot } from './app-fixture.js';
import { spawnGroup } from './fw-process.js';
import { npmEnv } from './packed-fw.js';

/** The fw version the workspace packs: the range each app asks for, as `npm install fw` would write it. */
export const fwVersion: string = JSON.parse(await readFile(path.join(repoRoot, 'packages', 'cli', 'package.json'), 'utf8')).version;

/**
 * fastify-cli, pinned: the latest 7.x (8.x generates the same sources; only its package.json's
 * versions differ). `generate <folder> --lang=ts` is its TypeScript template.
 */
export const FASTIFY_CLI = 'fastify-cli@8.0.2';

/** No request logs, no colours. */
export const quiet = { LOG_LEVEL: 'warn', NO_COLOR: '1' };

/** Runs npm outside the repository, bounded (`env` adds to its environment); never throws, returns what it printed. */
export async function npm(cwd: string, args: string[], timeoutMs = 120_000, env: NodeJS.ProcessEnv = {}) {
  const result = await execa('npm', args, { cwd, env: npmEnv({ ...quiet, ...env }), extendEnv: false, reject: false, all: true, timeout: timeoutMs, stdin: 'ignore' });
  return { exitCode: result.exitCode, timedOut: result.timedOut, all: stripVTControlCharacters(result.all ?? '') };
}

/** `node_modules/<relative>` in `dir` or the nearest folder above it that has one, as Node would find it. */
export function installedFile(dir: string, relative: string): string {
  for (let current = path.resolve(dir); ; current = path.dirname(current)) {
    const candidate = path.join(current, 'node_modules', relative);
    if (existsSync(candidate)) return candidate;
    if (path.dirname(current) === current) throw new Error(`node_modules/${relative} is not installed in ${dir} or above it`);
  }
}

/** The fw command installed in the app (hoisted to the root in a monorepo). */
export const installedFw = (dir: string) => installedFile(dir, path.join('fwjs', 'bin', 'fw.js'));

/** Runs the installed fw to completion in `cwd` (bounded) and returns its exit code and output. */
export async function runFw(cwd: string, args: string[], timeoutMs = 60_000) {
  const result = await execa(process.execPath, [installedFw(cwd), ...args], {
    cwd,
    env: npmEnv(quiet),
    extendEnv: false,
    reject: false,
    all: true,
    timeout: timeoutMs,
    stdin: 'ignore',
  });
  return { exitCode: result.exitCode, stdout: stripVTControlCharacters(result.stdout ?? ''), all: stripVTControlCharacters(result.all ?? '') };
}

/** Runs the app's own TypeScript (`tsc --noEmit -p <dir>`): the fixture is right before fw is asked to run it. */
export async function typecheck(dir: string) {
  const result = await execa(process.execPath, [installedFile(dir, path.join('typescript', 'bin', 'tsc')), '--noEmit', '-p', dir], {
    cwd: dir,
    env: npmEnv(quiet),
    extendEnv: false,
    reject: false,
    all: true,
    timeout: 120_000,
    stdin: 'ignore',
  });
  return { exitCode: result.exitCode, all: result.all ?? '' };
}

/** A running `fw start` or `fw dev` of an installed fw, leading its own process group. */
export interface RunningFw {
  pid: number;
  url: string;
  output(): string;
  /** Resolves with the first match of `pattern` in the output from `from` on; rejects after `timeoutMs` or when fw exits. */
  waitFor(pattern: RegExp, timeoutMs?: number, from?: number): Promise<RegExpMatchArray>;
  /** TERM to the master, then KILL to the whole group if any of it is left after `graceMs`. Resolves once all of it is gone. */
  stop(graceMs?: number): Promise<void>;
}

/** `fw start` printed this once it serves: the first group is the port. */
export const SERVING = /serving .*?http:\/\/[^\s,]+:(\d+)[\s,]/;
/** `fw dev` printed this once it listens. */
export const DEV_READY = /fw dev\S*\s+\S*http:\/\/[^\s:]+:(\d+)\s/;

/** Starts the installed fw (`args` e.g. `['start', '--port', '0']`) in `cwd` and waits (bounded) for `readyLine`. */
export async function startFw(cwd: string, args: string[], readyLine: RegExp, timeoutMs = 60_000): Promise<RunningFw> {
  let output = '';
  let exited = false;
  const checks = new Set<() => void>();
  const group = spawnGroup(process.execPath, [installedFw(cwd), ...args], {
    cwd,
    env: quiet,
    onOutput: (chunk) => {
      output += stripVTControlCharacters(chunk);
      for (const check of checks) check();
    },
  });
  const { pid } = group;
  void group.exited.then(() => {
    exited = true;
    for (const check of checks) check();
  });

  const waitFor = (pattern: RegExp, waitMs = 30_000, from = 0) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        checks.delete(check);
        settle();
      };
      const check = () => {
        const match = output.slice(from).match(pattern);
        if (match) finish(() => resolve(match));
        else if (exited) finish(() => reject(new Error(`fw ${args[0]} exited before printing ${pattern}:\n${output}`)));
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`fw ${args[0]}: no ${pattern} within ${waitMs} ms:\n${output}`))), waitMs);
      checks.add(check);
      check();
    });

  // The master stops its workers itself; KILL to the group is for what is left after the grace.
  const stop = (graceMs = 15_000) => group.stop(graceMs, 'leader');

  try {
    const [, port] = await waitFor(readyLine, timeoutMs);
    return { pid, url: `http://127.0.0.1:${port}`, output: () => output, waitFor, stop };
  } catch (error) {
    await stop(0);
    throw error;
  }
}

export interface Answer {
  status: number;
  type: string;
  text: string;
}

/**
 * One GET on a connection of its own that closes after the answer (an idle kept-alive connection
 * would hold a graceful stop for the server's keep-alive timeout); rejects after 10 s.
 */
export function get(url: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { agent: false, headers: { connection: 'close' }, timeout: 10_000 }, (response) => {
      let text = '';
      response.setEncoding('utf8').on('data', (chunk: string) => {
        text += chunk;
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, type: String(response.headers['content-type'] ?? ''), text }));
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error(`GET ${url}: no answer within 10 s`)));
    request.on('error', reject);
  });
}

/** `status body` of a GET, or the error: for `expect.poll`, which compares until it matches. */
export async function answerOf(url: string): Promise<string> {
  try {
    const { status, text } = await get(url);
    return `${status} ${text}`;
  } catch (error) {
    return `no answer: ${(error as Error).message}`;
  }
}

/**
 * Polls `url` until its answer (`status body`) matches `expected`, for fw dev's first answer;
 * bounded by `timeoutMs`. Fails at once on fw dev's page for an app that failed to start: with no
 * version booted, nothing but an edit would change that answer.
 */
export async function firstAnswer(url: string, expected: string | RegExp, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let answer = await answerOf(url);
  while (!(typeof expected === 'string' ? answer === expected : expected.test(answer))) {
    if (answer.startsWith('503 The app failed to start')) throw new Error(`fw dev could not start the app: GET ${url} answered\n${answer}`);
    if (Date.now() > deadline) throw new Error(`GET ${url} did not answer ${String(expected)} within ${timeoutMs} ms; the last answer:\n${answer}`);
    await sleep(100);
    answer = await answerOf(url);
  }
  return answer;
}

/** Replaces the first `from` with `to` in a file, and throws if `from` is not there: an edit that misses its mark must not pass silently. */
export async function edit(file: string, from: string | RegExp, to: string): Promise<void> {
  const text = await readFile(file, 'utf8');
  const found = typeof from === 'string' ? text.includes(from) : from.test(text);
  if (!found) throw new Error(`${file} does not contain ${String(from)}:\n${text}`);
  await writeFile(file, text.replace(from, to));
}

/** Writes `files` (path relative to `dir` → text) under `dir`, making folders as needed. */
export async function writeTree(dir: string, files: Record<string, string>): Promise<void> {
  for (const [relative, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, relative)), { recursive: true });
    await writeFile(path.join(dir, relative), text);
  }
}

/** A JSON file's text, as npm and editors write it. */
export const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

/** What a person adds to an app to run it under fw, with fw among its dependencies. */
export const fwScripts = { build: 'fw build', start: 'fw start', dev: 'fw dev', typecheck: 'tsc --noEmit' };
const typescriptDevDependencies = { '@types/node': '^20.19.0', typescript: '^5.9.0' };

/** The .gitignore of an app that builds to dist/ (tsc) and .fw/ (fw). */
export const gitignore = 'node_modules\ndist\n.fw\n';

/**
 * The package.json of a TypeScript app written for these tests: private, fw's scripts, fw (the
 * version the workspace packs) among its `dependencies`, TypeScript and Node's types among its
 * devDependencies; CommonJS unless `type` says `module`, as npm init writes it.
 */
export function appPackage(manifest: {
  name: string;
  version?: string;
  type?: 'module';
  dependencies: Record<string, string>;
  devDependencies?: Record<string, string>;
}): string {
  return json({
    name: manifest.name,
    version: manifest.version ?? '1.0.0',
    private: true,
    ...(manifest.type ? { type: manifest.type } : {}),
    scripts: fwScripts,
    dependencies: { ...manifest.dependencies, fwjs: `^${fwVersion}` },
    devDependencies: { ...manifest.devDependencies, ...typescriptDevDependencies },
  });
}

/** How an ES module app run by Node resolves its imports (`.js` endings, package exports). */
export const esModules = { module: 'NodeNext', moduleResolution: 'NodeNext' };
/** How a CommonJS app compiles (`require`, `module.exports`, default imports of CommonJS packages). */
export const commonJsModules = { module: 'commonjs', esModuleInterop: true, rootDir: 'src' };

/**
 * The tsconfig.json of a TypeScript app run by Node, its sources in src/: strict, ES2022, Node's
 * types, tsc's output in dist/; `modules` is how its modules compile (`esModules`,
 * `commonJsModules`), `options` anything more it needs (decorators).
 */
export function appTsconfig(modules: Record<string, unknown>, options: Record<string, unknown> = {}): string {
  return json({
    compilerOptions: { target: 'ES2022', lib: ['ES2022'], strict: true, skipLibCheck: true, outDir: 'dist', types: ['node'], ...modules, ...options },
    include: ['src'],
  });
}

// ---------------------------------------------------------------------------------------------
// 1. fastify-cli's TypeScript app

/**
 * Runs fastify-cli's generator in `parent`: `fastify generate <name> --lang=ts`, through
 * `npm exec --yes`, exactly as its README says. Returns the folder and what the generator printed.
 */
export async function generateFastifyCliApp(parent: string, name: string) {
  const result = await npm(parent, ['exec', '--yes', '--', FASTIFY_CLI, 'generate', name, '--lang=ts'], 180_000);
  return { dir: path.join(parent, name), ...result };
}

/** Adds fw to an existing app's dependencies, as `npm install fw` would (useTarballs then points it at the tarball). */
export async function addFwDependency(appDir: string): Promise<void> {
  const file = path.join(appDir, 'package.json');
  const manifest = JSON.parse(await readFile(file, 'utf8'));
  manifest.dependencies = { ...manifest.dependencies, fwjs: `^${fwVersion}` };
  await writeFile(file, json(manifest));
}

/**
 * A route plugin in the generated example's own style: `example`, the text of
 * `src/routes/example/index.ts` as the generator wrote it, renamed and answering `answer` (no
 * quote in it, nor the word "example"), written to `src/routes/<name>/index.ts`.
 */
export async function addRouteLikeExample(appDir: string, example: string, name: string, answer: string): Promise<string> {
  if (!example.includes("'this is an example'")) throw new Error(`not the generated example route:\n${example}`);
  const file = path.join(appDir, 'src', 'routes', name, 'index.ts');
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, example.replace("'this is an example'", `'${answer}'`).replaceAll('example', name));
  return file;
}

// ---------------------------------------------------------------------------------------------
// 2. An ESM app that finds its files next to its modules

export const esmApp = {
  data: { version: 'data-v1', items: ['apple', 'pear'] },
  query: 'SELECT id, name FROM fruits WHERE season = $1;\n',
  indexHtml: '<!doctype html>\n<title>esm app</title>\n<h1>served from public/index.html</h1>\n',
};

export async function writeEsmApp(dir: string): Promise<void> {
  await writeTree(dir, {
    'package.json': appPackage({ name: 'esm-app', type: 'module', dependencies: { '@fastify/static': '^8.3.0', fastify: '^5.6.0' } }),
    'tsconfig.json': appTsconfig(esModules),
    '.gitignore': gitignore,
    'public/index.html': esmApp.indexHtml,
    'src/data.json': `${JSON.stringify(esmApp.data)}\n`,
    'src/sql/query.sql': esmApp.query,
    'src/routes/hello.ts': `import type { FastifyInstance } from 'fastify';

export async function helloRoutes(app: FastifyInstance) {
  app.get('/hello', async () => ({ hello: 'world' }));
}
`,
    'src/app.ts': `import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import Fastify from 'fastify';
import { helloRoutes } from './routes/hello.js';

// Read once, at start-up, from the folder this module is in.
const query = await readFile(join(import.meta.dirname, 'sql', 'query.sql'), 'utf8');

export default async function createApp() {
  const app = Fastify({ logger: { level: process.env.LOG_LEVEL ?? 'info' } });
  await app.register(fastifyStatic, { root: join(import.meta.dirname, '..', 'public') });
  // Read on every request: the answer is whatever the data.json beside this module says.
  app.get('/data', async () => JSON.parse(await readFile(new URL('./data.json', import.meta.url), 'utf8')));
  app.get('/query', async (_request, reply) => reply.type('text/plain; charset=utf-8').send(query));
  await app.register(helloRoutes);
  return app;
}
`,
  });
}

// ---------------------------------------------------------------------------------------------
// 3. A CommonJS app

export const cjsApp = {
  version: '2.3.4',
  indexHtml: '<!doctype html>\n<title>cjs app</title>\n<h1>served from views/index.html</h1>\n',
};

export async function writeCjsApp(dir: string): Promise<void> {
  await writeTree(dir, {
    // No "type": CommonJS, as npm init writes it.
    'package.json': appPackage({ name: 'cjs-app', version: cjsApp.version, dependencies: { fastify: '^5.6.0', ms: '^2.1.3' } }),
    'tsconfig.json': appTsconfig(commonJsModules),
    '.gitignore': gitignore,
    'views/index.html': cjsApp.indexHtml,
    'src/greet.ts': `const GREETING = 'hello';

exports.greet = function greet(name: string): string {
  return \`\${GREETING}, \${name}\`;
};
`,
    'src/app.ts': `const fs = require('fs');
const path = require('path');
const ms = require('ms');
const { greet } = require('./greet');
const { version } = require('../package.json');
const fastify: typeof import('fastify').default = require('fastify');

const indexHtml = fs.readFileSync(path.join(__dirname, '..', 'views', 'index.html'), 'utf8');

module.exports = async function buildApp() {
  const app = fastify({ logger: { level: process.env.LOG_LEVEL || 'info' } });
  app.get('/', async (_request, reply) => reply.type('text/html; charset=utf-8').send(indexHtml));
  app.get<{ Params: { name: string } }>('/greet/:name', async (request) => ({ greeting: greet(request.params.name) }));
  app.get('/info', async () => ({ version, cacheFor: ms('2 days') }));
  return app;
};
`,
  });
}

// ---------------------------------------------------------------------------------------------
// 4. An npm-workspaces monorepo with a just-in-time internal package

/**
 * `<root>/apps/web` and `<root>/packages/shared` (`@acme/shared`, exporting its TypeScript source:
 * no build step of its own; an extensionless and a `.js` relative import inside it). fw is a
 * dependency of apps/web; the root's `overrides` (written by useTarballs) point it at the tarball.
 */
export async function writeMonorepo(root: string): Promise<{ web: string; shared: string }> {
  const moduleOptions = { target: 'ES2022', lib: ['ES2022'], module: 'ESNext', moduleResolution: 'Bundler', strict: true, skipLibCheck: true, noEmit: true };
  await writeTree(root, {
    'package.json': json({ name: 'acme', private: true, workspaces: ['apps/*', 'packages/*'] }),
    '.gitignore': 'node_modules\n.fw\n',
    'packages/shared/package.json': json({ name: '@acme/shared', version: '0.0.0', private: true, type: 'module', exports: { '.': './src/index.ts' } }),
    'packages/shared/tsconfig.json': json({ compilerOptions: moduleOptions, include: ['src'] }),
    'packages/shared/src/index.ts': `export * from './greeting';
export { shout } from './shout.js';
`,
    'packages/shared/src/greeting.ts': `export const GREETING = 'hello from @acme/shared';

export function greeting(name: string): string {
  return \`\${GREETING}, \${name}\`;
}
`,
    'packages/shared/src/shout.ts': `export function shout(text: string): string {
  return \`\${text.toUpperCase()}!\`;
}
`,
    'apps/web/package.json': appPackage({ name: 'web', version: '0.0.0', type: 'module', dependencies: { '@acme/shared': '*', fastify: '^5.6.0' } }),
    'apps/web/tsconfig.json': json({ compilerOptions: { ...moduleOptions, types: ['node'] }, include: ['src'] }),
    'apps/web/src/app.ts': `import { greeting, shout } from '@acme/shared';
import Fastify from 'fastify';

export default async function createApp() {
  const app = Fastify({ logger: { level: process.env.LOG_LEVEL ?? 'info' } });
  app.get('/', async () => ({ greeting: greeting('web'), loud: shout('web') }));
  return app;
}
`,
  });
  return { web: path.join(root, 'apps', 'web'), shared: path.join(root, 'packages', 'shared') };
}

// ---------------------------------------------------------------------------------------------
// 5. Constructor injection by type: tsyringe and emitDecoratorMetadata

/**
 * A Nest-style CommonJS app: `@injectable()` classes whose constructors name their dependencies
 * by type only, no `@inject` token. tsyringe resolves them from `design:paramtypes`, so the app
 * starts only if its build emitted decorator metadata ("TypeInfo not known" otherwise).
 */
export async function writeDecoratorApp(dir: string): Promise<void> {
  await writeTree(dir, {
    'package.json': appPackage({ name: 'di-app', dependencies: { fastify: '^5.6.0', 'reflect-metadata': '^0.2.2', tsyringe: '^4.10.0' } }),
    'tsconfig.json': appTsconfig(commonJsModules, { experimentalDecorators: true, emitDecoratorMetadata: true }),
    '.gitignore': gitignore,
    'src/services/config.ts': `import { singleton } from 'tsyringe';

@singleton()
export class AppConfig {
  readonly greeting = 'hello from an injected service';
}
`,
    'src/services/greeter.ts': `import { injectable } from 'tsyringe';
import { AppConfig } from './config';

@injectable()
export class Greeter {
  constructor(private readonly config: AppConfig) {}

  greet(name: string): string {
    return \`\${this.config.greeting}, \${name}\`;
  }
}
`,
    'src/greeting.controller.ts': `import { injectable } from 'tsyringe';
import { Greeter } from './services/greeter';

@injectable()
export class GreetingController {
  constructor(private readonly greeter: Greeter) {}

  hello(name: string) {
    return { greeting: this.greeter.greet(name) };
  }
}
`,
    'src/app.ts': `import 'reflect-metadata';
import Fastify from 'fastify';
import { container } from 'tsyringe';
import { GreetingController } from './greeting.controller';

export default async function createApp() {
  const app = Fastify({ logger: { level: process.env.LOG_LEVEL ?? 'info' } });
  // Resolved by constructor parameter types alone: only where design:paramtypes was emitted.
  const controller = container.resolve(GreetingController);
  app.get<{ Params: { name: string } }>('/hello/:name', async (request) => controller.hello(request.params.name));
  return app;
}
`,
  });
}
