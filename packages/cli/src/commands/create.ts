import { defineCommand } from 'citty';
import { rejectUnknownFlags } from '../args.js';
import { UsageError } from '../errors.js';

const args = {
  dir: { type: 'positional', required: false, description: 'The folder for the new app; the app is named after it' },
  template: { type: 'string', alias: 't', description: 'fastify (the default) or minimal' },
  yes: { type: 'boolean', alias: 'y', description: 'Ask nothing: defaults for whatever the flags leave out' },
  force: { type: 'boolean', alias: 'f', description: 'Write into a folder that is not empty' },
} as const;

export default defineCommand({
  meta: {
    name: 'create',
    description: 'Scaffold a new app from a template (the same as "npm create fw")',
  },
  args,
  async run({ args: parsed, rawArgs }) {
    rejectUnknownFlags('create', rawArgs, args);
    if (parsed._.length > 1) throw new UsageError(`one folder only, got ${parsed._.length}: ${parsed._.join(' ')}`);
    // The one implementation lives in create-fw; this is its second door.
    const { create, CreateError } = await import('create-fw');
    try {
      const outcome = await create({
        dir: parsed.dir,
        template: parsed.template,
        yes: parsed.yes,
        force: parsed.force,
        title: 'fw create',
      });
      if (outcome.status === 'cancelled') process.exitCode = 130;
    } catch (error) {
      if (error instanceof CreateError) throw new UsageError(error.message);
      throw error;
    }
  },
});
