import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import * as prompts from '@clack/prompts';
import { CancelledError, CreateError } from './errors.js';
import { appNameFor, displayPath, nameProblem, scaffold, targetProblem, type ScaffoldResult } from './scaffold.js';
import { checkTemplate, DEFAULT_TEMPLATE, TEMPLATES, type TemplateName } from './templates.js';

/** The folder an app goes into when nobody says otherwise (a prompt's default, or with --yes). */
export const DEFAULT_DIR = 'my-fw-app';

export interface CreateOptions {
  /** The app's folder; the app is named after it. Asked for when interactive and missing. */
  dir?: string | undefined;
  /** A template name. Asked for when interactive and missing; `fastify` otherwise. */
  template?: string | undefined;
  /** Never ask: take the defaults for whatever the flags leave out. */
  yes?: boolean | undefined;
  /** Write into a folder that is not empty. */
  force?: boolean | undefined;
  /** Ask for what the flags leave out. Default: stdin and stdout are terminals and there is no --yes. */
  interactive?: boolean | undefined;
  /** The title above the prompts, e.g. "fw create". */
  title?: string | undefined;
  /** Where the prompts read keys (default stdin). */
  input?: Readable | undefined;
  /** Where the prompts and messages go (default stdout). */
  output?: Writable | undefined;
}

export type CreateOutcome =
  | { status: 'created'; result: ScaffoldResult; nextSteps: string[] }
  | { status: 'cancelled' };

/**
 * `fw create` and `npm create fw`: one implementation, two doors. Checks every flag before it
 * asks anything, asks (with a terminal) only for what the flags leave out, then writes the app and
 * prints the next steps. Bad input throws a CreateError before anything is written; Ctrl-C at a
 * prompt, or a signal while writing, leaves nothing behind and returns `cancelled`.
 */
export async function create(options: CreateOptions = {}): Promise<CreateOutcome> {
  const output = options.output ?? process.stdout;
  const force = options.force === true;
  const interactive = options.interactive ?? (!options.yes && Boolean(process.stdin.isTTY && process.stdout.isTTY));

  let template: TemplateName | undefined = options.template === undefined ? undefined : checkTemplate(options.template);
  let dir = options.dir;
  if (dir !== undefined) checkDir(dir, force);

  if (!interactive) {
    // scaffold() checks the default folder as it checks any other.
    const written = await write(dir ?? DEFAULT_DIR, template ?? DEFAULT_TEMPLATE, force);
    if (written.status === 'cancelled') {
      output.write('cancelled: nothing was written\n');
      return written;
    }
    const shown = displayPath(written.result.targetDir);
    const where = shown === '.' ? 'this folder' : shown;
    output.write(`Created ${written.result.name} from the ${written.result.template} template in ${where}.\n\n`);
    output.write(`Next steps:\n${written.nextSteps.map((step) => `  ${step}\n`).join('')}`);
    return written;
  }

  const io = { input: options.input, output };
  const cancelled = (): CreateOutcome => {
    prompts.cancel('Cancelled: nothing was written.', io);
    return { status: 'cancelled' };
  };
  prompts.intro(options.title ?? 'create-fw', io);
  if (dir === undefined) {
    const answer = await prompts.text({
      ...io,
      message: 'Where should the app go? It is named after its folder.',
      placeholder: DEFAULT_DIR,
      defaultValue: DEFAULT_DIR,
      validate: (value) => dirProblem(value?.trim() || DEFAULT_DIR, force),
    });
    if (prompts.isCancel(answer)) return cancelled();
    dir = answer.trim() || DEFAULT_DIR;
  }
  if (template === undefined) {
    const answer = await prompts.select<TemplateName>({
      ...io,
      message: 'Which template?',
      options: TEMPLATES.map((each) => ({ value: each.name, label: each.name, hint: each.hint })),
      initialValue: DEFAULT_TEMPLATE,
    });
    if (prompts.isCancel(answer)) return cancelled();
    template = answer;
  }
  // scaffold() checks the folder once more: it may have changed while the prompts waited.
  const written = await write(dir, template, force);
  if (written.status === 'cancelled') return cancelled();
  prompts.note(written.nextSteps.join('\n'), 'Next steps', io);
  prompts.outro(`Created ${written.result.name} from the ${written.result.template} template.`, io);
  return written;
}

/** Why the app cannot go into `dir` (its name, then the folder), in one line; undefined when it can. */
export function dirProblem(dir: string, force: boolean): string | undefined {
  if (dir.trim() === '') return 'the folder name is empty: say where the app should go, e.g. my-app';
  return nameProblem(appNameFor(dir)) ?? targetProblem(path.resolve(dir), { force });
}

/** The commands that take a new app from its folder to a running dev server. */
export function nextSteps(targetDir: string): string[] {
  const shown = displayPath(targetDir);
  return [...(shown === '.' ? [] : [`cd ${shellQuote(shown)}`]), 'npm install', 'npm run dev'];
}

function checkDir(dir: string, force: boolean): void {
  const problem = dirProblem(dir, force);
  if (problem) throw new CreateError(problem);
}

/** Scaffolds with Ctrl-C, TERM and HUP turned into an abort, so an interrupted copy is undone. */
async function write(dir: string, template: TemplateName, force: boolean): Promise<CreateOutcome> {
  const controller = new AbortController();
  const abort = () => controller.abort();
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const signal of signals) process.on(signal, abort);
  try {
    const result = await scaffold({ targetDir: dir, template, force, signal: controller.signal });
    return { status: 'created', result, nextSteps: nextSteps(result.targetDir) };
  } catch (error) {
    if (error instanceof CancelledError) return { status: 'cancelled' };
    throw error;
  } finally {
    for (const signal of signals) process.off(signal, abort);
  }
}

function shellQuote(text: string): string {
  return /^[\w./@+-]+$/.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`;
}
