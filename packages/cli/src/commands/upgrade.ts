import { defineCommand } from 'citty';
import { rejectUnknownFlags } from '../args.js';
import { MasterError } from '../errors.js';
import { askMaster, masterArgs } from '../master-request.js';

const args = masterArgs;

/** Long enough for the new master to build, boot and take over; it answers as soon as that is decided. */
const UPGRADE_ANSWER_TIMEOUT_MS = 15 * 60_000;

export default defineCommand({
  meta: {
    name: 'upgrade',
    description: 'Replace the master itself (a new Node.js or fw) with no downtime: same as SIGUSR2',
  },
  args,
  async run({ args: parsed, rawArgs }) {
    rejectUnknownFlags('upgrade', rawArgs, args);
    let error: { message: string; stack?: string | undefined } | undefined;
    try {
      const response = await askMaster(parsed, { command: 'upgrade' }, UPGRADE_ANSWER_TIMEOUT_MS);
      if (response.ok) {
        process.stdout.write(`upgraded: the new master (pid ${response.pid}) serves; the old one drains and exits\n`);
        return;
      }
      error = response.error ?? { message: 'no reason given' };
    } catch (failure) {
      if (!(failure instanceof MasterError)) throw failure;
      error = { message: failure.message, stack: failure.masterStack };
    }
    process.stderr.write(`upgrade refused, the running master keeps serving: ${error.message}\n`);
    if (error.stack) process.stderr.write(`${error.stack}\n`);
    process.exitCode = 1;
  },
});
