import { existsSync } from 'node:fs';
import http from 'node:http';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from './helpers/app-fixture.js';
import { fw } from './helpers/fw-process.js';
import { startScript } from './helpers/npm-script.js';
import { npmEnv, packWorkspace, type Tarballs, useTarballs } from './helpers/packed-fw.js';

const { version } = JSON.parse(await readFile(path.join(repoRoot, 'packages', 'cli', 'package.json'), 'utf8')) as { version: string };

/** Every file and folder under `dir`, with contents and mtimes: equal snapshots mean untouched. */
async function snapshot(dir: string): Promise<string> {
  if (!existsSync(dir)) return 'missing';
  const lines: string[] = [`. ${(await stat(dir)).mtimeMs}`];
  for (const entry of (await readdir(dir, { recursive: true })).sort()) {
    const full = path.join(dir, entry);
    const info = await stat(full);
    lines.push(`${entry} ${info.mtimeMs} ${info.isFile() ? await readFile(full, 'utf8') : ''}`);
  }
  return lines.join('\n');
}

/**
 * One GET on a connection of its own that closes after the answer: a kept-alive idle connection
 * would hold the graceful stop for the server's whole keep-alive timeout (Fastify's is 72 s).
 */
function getJson(url: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { agent: false, headers: { connection: 'close' }, timeout: 10_000 }, (response) => {
      let text = '';
      response.setEncoding('utf8').on('data', (chunk: string) => {
        text += chunk;
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) }));
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error(`GET ${url}: no answer within 10 s`)));
    request.on('error', reject);
  });
}

/** No request logs, no colours. */
const quiet = { LOG_LEVEL: 'warn', NO_COLOR: '1' };

/** Runs npm in an app outside the repository, bounded; never throws, returns what it printed. */
async function npm(cwd: string, args: string[], timeoutMs = 120_000) {
  const result = await execa('npm', args, { cwd, env: npmEnv(quiet), extendEnv: false, reject: false, all: true, timeout: timeoutMs, stdin: 'ignore' });
  return { exitCode: result.exitCode, all: stripVTControlCharacters(result.all ?? '') };
}

describe('fw create: bad input is refused with one line, exit code 2, nothing touched', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'fw-create-refusals-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const expectRefused = async (args: string[], message: RegExp) => {
    const before = await snapshot(root);
    const result = await fw(['create', ...args], { cwd: root, timeoutMs: 20_000 });
    expect(result.exitCode, result.all).toBe(2);
    expect(result.stdout).toBe('');
    const lines = result.stderr.trim().split('\n');
    expect(lines, result.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^fw: /);
    expect(lines[0]).toMatch(message);
    expect(await snapshot(root), 'the folder was touched').toBe(before);
  };

  it('a folder that is not empty, without --force', async () => {
    await mkdir(path.join(root, 'taken', 'src'), { recursive: true });
    await writeFile(path.join(root, 'taken', 'package.json'), '{ "name": "taken" }\n');
    await writeFile(path.join(root, 'taken', 'src', 'app.ts'), 'export default 1;\n');
    await expectRefused(['taken', '--yes'], /^fw: folder taken is not empty: pick another folder, or pass --force to write the template's files into it$/);
    await expectRefused(['taken', '--template', 'minimal'], /folder taken is not empty/);
  });

  it('an unknown template, listing the known ones', async () => {
    await expectRefused(['new-app', '--template', 'vue', '--yes'], /^fw: unknown template "vue": the templates are fastify, minimal$/);
    expect(existsSync(path.join(root, 'new-app'))).toBe(false);
  });

  it('a name that is not a valid npm package name', async () => {
    await expectRefused(['My App', '--yes'], /^fw: "My App" is not a valid npm package name \(name can only contain URL-friendly characters\)/);
    await expectRefused(['UPPER', '--yes'], /"UPPER" is not a valid npm package name \(name can no longer contain capital letters\)/);
    await expectRefused(['.dot', '--yes'], /"\.dot" is not a valid npm package name \(name cannot start with a period\)/);
  });

  it('an unknown flag', async () => {
    await expectRefused(['app', '--tempalte', 'minimal'], /^fw: unknown option --tempalte for "fw create": see "fw create --help"$/);
  });
});

/**
 * Each template, as a person would get it: scaffolded outside the repository, installed against
 * the workspace's packages packed with `npm pack` (never the workspace itself), then its own
 * test, fw build, fw start and fw dev, each answering a request.
 */
describe.each([
  { template: 'fastify', door: 'fw create' },
  { template: 'minimal', door: 'npm create fw (the packed create-fw, through npm exec)' },
])('the $template template, end to end against the packed packages, scaffolded by $door', ({ template }) => {
  let root: string;
  let tarballs: Tarballs;
  let appDir: string;
  let scaffolded = false;
  let installed = false;

  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), `fw-create-${template}-`));
    await mkdir(path.join(root, 'packs'));
    tarballs = await packWorkspace(path.join(root, 'packs'));
    appDir = path.join(root, `${template}-app`);
  }, 120_000);
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('packs fw, its packages and create-fw', () => {
    expect(Object.keys(tarballs)).toEqual(expect.arrayContaining(['fwjs', '@fwjs/core', '@fwjs/runtime', '@fwjs/dev', 'create-fw']));
  });

  it('scaffolds the app and prints the next steps', async () => {
    const name = `${template}-app`;
    const result =
      template === 'fastify'
        ? await fw(['create', name, '--template', template], { cwd: root, timeoutMs: 30_000 })
        : await npm(root, ['exec', '--yes', '--cache', path.join(root, 'npm-cache'), `--package=${tarballs['create-fw']}`, '--', 'create-fw', name, '--template', template], 120_000);
    expect(result.exitCode, result.all).toBe(0);
    expect(result.all).toContain(`Created ${name} from the ${template} template`);
    expect(result.all).toContain(`Next steps:\n  cd ${name}\n  npm install\n  npm run dev`);
    const manifest = JSON.parse(await readFile(path.join(appDir, 'package.json'), 'utf8'));
    expect(manifest.name).toBe(name);
    expect(manifest.dependencies.fwjs).toBe(`^${version}`);
    expect(existsSync(path.join(appDir, '.gitignore'))).toBe(true);
    scaffolded = true;
  }, 150_000);

  it('installs against the tarballs', async () => {
    expect(scaffolded, 'the app was not scaffolded').toBe(true);
    await useTarballs(appDir, tarballs);
    const result = await npm(appDir, ['install', '--no-audit', '--no-fund'], 240_000);
    expect(result.exitCode, result.all).toBe(0);
    const fwManifest = JSON.parse(await readFile(path.join(appDir, 'node_modules', 'fwjs', 'package.json'), 'utf8'));
    expect(fwManifest.version).toBe(version);
    // Installed from the tarball: a copy, never a link back into the workspace.
    expect(existsSync(path.join(appDir, 'node_modules', 'fwjs', 'src'))).toBe(false);
    expect(existsSync(path.join(appDir, 'node_modules', '@fwjs', 'core', 'dist', 'index.js'))).toBe(true);
    installed = true;
  }, 260_000);

  it('passes its own test and type-checks', async () => {
    expect(installed, 'the app was not installed').toBe(true);
    const test = await npm(appDir, ['test']);
    expect(test.exitCode, test.all).toBe(0);
    expect(test.all).toMatch(/Tests\s+3 passed/);
    const typecheck = await npm(appDir, ['run', 'typecheck']);
    expect(typecheck.exitCode, typecheck.all).toBe(0);
  }, 150_000);

  it('builds with fw build', async () => {
    expect(installed, 'the app was not installed').toBe(true);
    const result = await npm(appDir, ['run', 'build']);
    expect(result.exitCode, result.all).toBe(0);
    expect(result.all).toMatch(/built src\/app\.ts → \.fw\/build/);
    expect(existsSync(path.join(appDir, '.fw', 'build'))).toBe(true);
  }, 60_000);

  it('starts with fw start and answers', async () => {
    expect(installed, 'the app was not installed').toBe(true);
    const server = await startScript(appDir, 'start', ['--port', '0', '--workers', '1'], /serving http:\/\/[^\s]+:(\d+)\s/, { env: quiet });
    try {
      expect(await getJson(`${server.url}/`)).toEqual({ status: 200, body: { hello: 'world' } });
      expect((await getJson(`${server.url}/health`)).body).toMatchObject({ ok: true });
    } finally {
      await server.stop();
    }
    // TERM stopped it gracefully: the master saw its worker out and said so.
    expect(server.output()).toMatch(/\[fw\] stopped/);
  }, 90_000);

  it('runs under fw dev and answers', async () => {
    expect(installed, 'the app was not installed').toBe(true);
    const server = await startScript(appDir, 'dev', ['--port', '0'], /fw dev\S*\s+\S*http:\/\/[^\s:]+:(\d+)\s/, { env: quiet });
    try {
      expect(await getJson(`${server.url}/`)).toEqual({ status: 200, body: { hello: 'world' } });
    } finally {
      await server.stop();
    }
  }, 90_000);
});
