import { setTimeout as sleep } from 'node:timers/promises';
import { defineCommand } from 'citty';
import { isAlive } from '@fwjs/core';
import { runningMasterPid } from '@fwjs/runtime';
import { rejectUnknownFlags } from '../args.js';
import { askMaster, masterArgs, masterPaths } from '../master-request.js';

const args = {
  ...masterArgs,
  force: { type: 'boolean', description: 'Kill the workers at once instead of draining them' },
  'close-idle': {
    type: 'boolean',
    description: 'Close idle kept-alive connections at once (only safe once a proxy no longer sends here)',
  },
  timeout: { type: 'string', description: 'Seconds to wait for the master to exit (default 120)' },
} as const;

export default defineCommand({
  meta: { name: 'stop', description: 'Stop gracefully: in-flight requests finish, then everything exits' },
  args,
  async run({ args: parsed, rawArgs }) {
    rejectUnknownFlags('stop', rawArgs, args);
    const pid = await runningMasterPid(masterPaths(parsed).pidFile);
    await askMaster(parsed, { command: 'stop', force: parsed.force === true, closeIdle: parsed['close-idle'] === true }, 10_000);
    const timeoutMs = Number(parsed.timeout ?? 120) * 1000;
    const deadline = Date.now() + timeoutMs;
    while (pid !== null && isAlive(pid)) {
      if (Date.now() > deadline) {
        process.stderr.write(`the master (pid ${pid}) is still draining after ${timeoutMs / 1000} s; "fw stop --force" kills the workers\n`);
        process.exitCode = 1;
        return;
      }
      await sleep(50);
    }
    process.stdout.write(`stopped${pid === null ? '' : ` (master pid ${pid})`}\n`);
  },
});
