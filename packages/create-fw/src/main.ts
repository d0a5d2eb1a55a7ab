import { parseArgs } from 'node:util';
import { create } from './create.js';
import { CreateError } from './errors.js';
import { FW_VERSION } from './scaffold.js';
import { DEFAULT_TEMPLATE, TEMPLATES } from './templates.js';

const usage = `create-fw ${FW_VERSION}: a new fw app in one command

Usage: npm create fw@latest [dir] -- [--template NAME] [--yes] [--force]
       (or: fw create [dir] [--template NAME] [--yes] [--force])

  dir                 the folder for the app; the app is named after it
  -t, --template NAME ${TEMPLATES.map((template) => template.name).join(' or ')} (default ${DEFAULT_TEMPLATE})
  -y, --yes           ask nothing: defaults for whatever the flags leave out
  -f, --force         write into a folder that is not empty
  -h, --help          this text

With a terminal it asks for what the flags leave out; without one, it never waits for input.
`;

/** The create-fw command: parses its flags and runs the same create() as "fw create". */
export async function main(argv: string[]): Promise<number> {
  try {
    const { values, positionals } = parseFlags(argv);
    if (values.help) {
      process.stdout.write(usage);
      return 0;
    }
    if (values.version) {
      process.stdout.write(`${FW_VERSION}\n`);
      return 0;
    }
    if (positionals.length > 1) {
      throw new CreateError(`one folder only, got ${positionals.length}: ${positionals.join(' ')}`);
    }
    const outcome = await create({
      dir: positionals[0],
      template: values.template,
      yes: values.yes,
      force: values.force,
      title: 'create-fw',
    });
    return outcome.status === 'cancelled' ? 130 : 0;
  } catch (error) {
    if (error instanceof CreateError) {
      process.stderr.write(`create-fw: ${error.message}\n`);
      return 2;
    }
    process.stderr.write(`create-fw: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return 1;
  }
}

function parseFlags(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        template: { type: 'string', short: 't' },
        yes: { type: 'boolean', short: 'y' },
        force: { type: 'boolean', short: 'f' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    });
  } catch (error) {
    // node:util's messages run over several sentences; say it in one line, the way fw does.
    const { code, message } = error as { code?: string; message: string };
    const token = /'([^']+)'/.exec(message)?.[1] ?? '';
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new CreateError(`unknown option ${token}: see "create-fw --help"`);
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') throw new CreateError(`option ${/--[\w-]+/.exec(token)?.[0] ?? token} needs a value: see "create-fw --help"`);
    throw new CreateError(message.split('\n')[0] ?? message);
  }
}

process.exitCode = await main(process.argv.slice(2));
