import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { snapshot } from './tree.js';

const bin = fileURLToPath(new URL('../bin/create-fw.js', import.meta.url));

/** Runs create-fw with stdin a pipe that stays open (no terminal), bounded to 20 s. */
function run(args: string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk; });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk; });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`create-fw ${args.join(' ')} still running after 20 s (waiting for input?):\n${stdout}${stderr}`));
    }, 20_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('the create-fw command', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'create-fw-bin-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('without a terminal and without flags, never waits: my-fw-app from the fastify template', async () => {
    const result = await run([], root);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('Created my-fw-app from the fastify template in my-fw-app.');
    expect(result.stdout).toContain('Next steps:\n  cd my-fw-app\n  npm install\n  npm run dev\n');
    expect(JSON.parse(await readFile(path.join(root, 'my-fw-app', 'package.json'), 'utf8')).name).toBe('my-fw-app');
  });

  it('takes the folder and the flags', async () => {
    const result = await run(['api', '--template', 'minimal', '--yes'], root);
    expect(result.code, result.stderr).toBe(0);
    expect(existsSync(path.join(root, 'api', 'src', 'app.ts'))).toBe(true);
    expect(await readFile(path.join(root, 'api', 'package.json'), 'utf8')).not.toContain('fastify');
  });

  it('scaffolds into the current folder, named after it, with no "cd" step', async () => {
    const here = path.join(root, 'here-app');
    await mkdir(here);
    const result = await run(['.', '--template', 'minimal'], here);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('Created here-app from the minimal template in this folder.');
    expect(result.stdout).toContain('Next steps:\n  npm install\n  npm run dev\n');
    expect(JSON.parse(await readFile(path.join(here, 'package.json'), 'utf8')).name).toBe('here-app');
  });

  it('writes into a non-empty folder only with --force', async () => {
    await mkdir(path.join(root, 'busy'));
    await writeFile(path.join(root, 'busy', 'keep.txt'), 'mine');
    expect((await run(['busy', '-y'], root)).code).toBe(2);
    const forced = await run(['busy', '-y', '--force'], root);
    expect(forced.code, forced.stderr).toBe(0);
    expect(await readFile(path.join(root, 'busy', 'keep.txt'), 'utf8')).toBe('mine');
    expect(existsSync(path.join(root, 'busy', 'src', 'app.ts'))).toBe(true);
  });

  describe('refuses with one line and exit code 2, touching nothing', () => {
    const refused = async (args: string[], message: RegExp) => {
      const before = await snapshot(root);
      const result = await run(args, root);
      expect(result.code, result.stdout + result.stderr).toBe(2);
      expect(result.stdout).toBe('');
      const lines = result.stderr.trimEnd().split('\n');
      expect(lines, result.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(/^create-fw: /);
      expect(lines[0]).toMatch(message);
      expect(await snapshot(root)).toEqual(before);
    };

    it('a folder that is not empty', async () => {
      await mkdir(path.join(root, 'busy'));
      await writeFile(path.join(root, 'busy', 'index.js'), 'mine');
      await refused(['busy', '--yes'], /folder busy is not empty: pick another folder, or pass --force/);
    });

    it('an unknown template, listing the known ones', async () => {
      await refused(['app', '--template', 'vue'], /unknown template "vue": the templates are fastify, minimal$/);
    });

    it('a name that is not a valid npm package name', async () => {
      await refused(['My App'], /"My App" is not a valid npm package name/);
      await refused(['_app'], /name cannot start with an underscore/);
    });

    it('an unknown option, a missing value, two folders', async () => {
      await refused(['app', '--tempalte', 'minimal'], /unknown option --tempalte: see "create-fw --help"/);
      await refused(['app', '--template'], /option --template needs a value/);
      await refused(['one', 'two'], /one folder only, got 2: one two/);
    });
  });

  it('--help says how to use it', async () => {
    const result = await run(['--help'], root);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/npm create fw@latest \[dir\] -- \[--template NAME\] \[--yes\] \[--force\]/);
    expect(result.stdout).toContain('fastify or minimal');
  });
});
