import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { create } from '../src/create.js';
import { CreateError } from '../src/errors.js';
import { snapshot } from './tree.js';

/** A fake terminal for the prompts: keys go in, the screen (without escape codes) comes out. */
function fakeTerminal() {
  const input = new PassThrough();
  const output = new PassThrough();
  let screen = '';
  output.on('data', (chunk: Buffer) => {
    // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping the terminal's escape codes
    screen += chunk.toString('utf8').replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
  });
  return {
    input,
    output,
    screen: () => screen,
    /** Waits until the screen shows `text` (bounded), then types `keys`. */
    async when(text: string, keys: string) {
      await expect.poll(() => screen, { timeout: 5_000, interval: 10, message: 'the screen' }).toContain(text);
      input.write(keys);
    },
  };
}

const ENTER = '\r';
const DOWN = '\x1b[B';
const CTRL_C = '\x03';

describe('create', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'create-fw-create-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  describe('without a terminal: flags only', () => {
    it('writes the app and prints the next steps', async () => {
      const terminal = fakeTerminal();
      const target = path.join(root, 'my-app');
      const outcome = await create({ dir: target, template: 'minimal', interactive: false, output: terminal.output });
      expect(outcome.status).toBe('created');
      expect(JSON.parse(await readFile(path.join(target, 'package.json'), 'utf8')).name).toBe('my-app');
      expect(terminal.screen()).toContain('Created my-app from the minimal template');
      expect(terminal.screen()).toContain(`Next steps:\n  cd ${target}\n  npm install\n  npm run dev\n`);
    });

    it('takes the fastify template when none is named', async () => {
      const outcome = await create({ dir: path.join(root, 'api'), interactive: false, output: new PassThrough() });
      expect(outcome.status === 'created' && outcome.result.template).toBe('fastify');
      expect(existsSync(path.join(root, 'api', 'src', 'routes'))).toBe(true);
    });

    it('refuses bad input with one line before writing anything', async () => {
      const busy = path.join(root, 'busy');
      await mkdir(busy);
      await writeFile(path.join(busy, 'index.js'), 'mine');
      const before = await snapshot(root);
      const attempts = [
        { dir: busy, template: 'fastify', message: /busy is not empty/ },
        { dir: path.join(root, 'fine'), template: 'react', message: /unknown template "react": the templates are fastify, minimal/ },
        { dir: path.join(root, 'Not OK'), template: 'fastify', message: /"Not OK" is not a valid npm package name/ },
        { dir: '', template: 'fastify', message: /the folder name is empty/ },
      ];
      for (const { dir, template, message } of attempts) {
        const output = new PassThrough();
        await expect(create({ dir, template, interactive: false, output })).rejects.toThrow(message);
        await expect(create({ dir, template, interactive: false, output })).rejects.toBeInstanceOf(CreateError);
        expect(output.read()).toBeNull();
      }
      expect(await snapshot(root)).toEqual(before);
    });
  });

  describe('with a terminal: asks for what the flags leave out', () => {
    it('asks for the folder and the template, then writes the app', async () => {
      const terminal = fakeTerminal();
      const target = path.join(root, 'shop');
      const done = create({ interactive: true, input: terminal.input, output: terminal.output, title: 'fw create' });
      await terminal.when('Where should the app go?', `${target}${ENTER}`);
      await terminal.when('Which template?', `${DOWN}${ENTER}`);
      const outcome = await done;
      expect(outcome.status).toBe('created');
      expect(outcome.status === 'created' && outcome.result.template).toBe('minimal');
      expect(JSON.parse(await readFile(path.join(target, 'package.json'), 'utf8')).name).toBe('shop');
      expect(terminal.screen()).toContain('fw create');
      expect(terminal.screen()).toMatch(/Next steps[\s\S]*npm install[\s\S]*npm run dev/);
    });

    it('asks only for what the flags leave out', async () => {
      const terminal = fakeTerminal();
      const done = create({ dir: path.join(root, 'named'), interactive: true, input: terminal.input, output: terminal.output });
      await terminal.when('Which template?', ENTER);
      const outcome = await done;
      expect(outcome.status === 'created' && outcome.result.template).toBe('fastify');
      expect(terminal.screen()).not.toContain('Where should the app go?');
    });

    it('shows why a folder will not do, and asks again', async () => {
      await mkdir(path.join(root, 'busy'));
      await writeFile(path.join(root, 'busy', 'x'), 'x');
      const terminal = fakeTerminal();
      const done = create({ interactive: true, input: terminal.input, output: terminal.output });
      await terminal.when('Where should the app go?', `${path.join(root, 'busy')}${ENTER}`);
      await terminal.when('is not empty', CTRL_C);
      expect(await done).toEqual({ status: 'cancelled' });
    });

    it('refuses a bad flag before asking anything', async () => {
      const terminal = fakeTerminal();
      await expect(create({ template: 'nope', interactive: true, input: terminal.input, output: terminal.output })).rejects.toThrow(/unknown template "nope"/);
      expect(terminal.screen()).toBe('');
    });

    it('Ctrl-C at the first question leaves nothing on disk', async () => {
      const before = await snapshot(root);
      const terminal = fakeTerminal();
      const done = create({ interactive: true, input: terminal.input, output: terminal.output });
      await terminal.when('Where should the app go?', `${path.join(root, 'half')}${CTRL_C}`);
      expect(await done).toEqual({ status: 'cancelled' });
      expect(terminal.screen()).toContain('Cancelled: nothing was written.');
      expect(await snapshot(root)).toEqual(before);
    });

    it('Ctrl-C at the last question leaves nothing on disk either', async () => {
      const before = await snapshot(root);
      const terminal = fakeTerminal();
      const done = create({ interactive: true, input: terminal.input, output: terminal.output });
      await terminal.when('Where should the app go?', `${path.join(root, 'deep', 'app')}${ENTER}`);
      await terminal.when('Which template?', CTRL_C);
      expect(await done).toEqual({ status: 'cancelled' });
      expect(await snapshot(root)).toEqual(before);
    });
  });
});
