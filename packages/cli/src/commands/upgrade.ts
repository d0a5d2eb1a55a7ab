import { defineCommand } from 'citty';
import { appPaths, controlRequest } from '@fw/runtime';
import { resolveAppDir } from '../app-context.js';
import { dirArg, rejectUnknownFlags } from '../args.js';

const args = {
  ...dirArg,
  instance: { type: 'string', description: 'The named instance (fw start --instance)' },
} as const;

export default defineCommand({
  meta: {
    name: 'upgrade',
    description: 'Replace the master itself (a new Node.js or fw) with no downtime: same as SIGUSR2',
  },
  args,
  async run({ args: parsed, rawArgs }) {
    rejectUnknownFlags('upgrade', rawArgs, args);
    const appDir = resolveAppDir(parsed.dir);
    const response = await controlRequest(appPaths(appDir, parsed.instance).controlSocket, { command: 'upgrade' }, 15 * 60_000);
    if (response.command === 'upgrade' && response.ok) {
      process.stdout.write(`upgraded: the new master (pid ${response.pid}) serves; the old one drains and exits\n`);
      return;
    }
    const error = 'error' in response ? response.error : undefined;
    process.stderr.write(`upgrade refused, the running master keeps serving: ${error?.message ?? 'unexpected answer'}\n`);
    if (error?.stack) process.stderr.write(`${error.stack}\n`);
    process.exitCode = 1;
  },
});
