import { defineCommand } from 'citty';
import { rejectUnknownFlags } from '../args.js';
import { askMaster, masterArgs } from '../master-request.js';

const args = masterArgs;

/** Long enough for any boot timeout; the master answers as soon as the rollout is decided. */
const RELOAD_ANSWER_TIMEOUT_MS = 15 * 60_000;

export default defineCommand({
  meta: {
    name: 'reload',
    description: 'Roll out the latest build with no downtime; exits non-zero if the new build is refused or rolled back',
  },
  args,
  async run({ args: parsed, rawArgs }) {
    rejectUnknownFlags('reload', rawArgs, args);
    const { outcome } = await askMaster(parsed, { command: 'reload' }, RELOAD_ANSWER_TIMEOUT_MS);
    if (outcome.ok) {
      process.stdout.write(`reloaded: generation ${outcome.generation} serving build ${outcome.build.id} (ready in ${outcome.ms} ms)\n`);
      return;
    }
    if (outcome.rolledBack !== undefined) {
      // Ready, then failed within its bake time: fw put the previous build back (or could not).
      process.stderr.write(`reload rolled back: ${outcome.error.message}\n`);
      process.exitCode = 1;
      return;
    }
    const which = outcome.generation === null ? 'reload' : `generation ${outcome.generation}`;
    process.stderr.write(`${which} refused, the previous version keeps serving: ${outcome.error.message}\n`);
    if (outcome.error.stack) process.stderr.write(`${outcome.error.stack}\n`);
    process.exitCode = 1;
  },
});
