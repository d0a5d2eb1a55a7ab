import { defineCommand } from 'citty';
import { appSettings } from '../app-context.js';
import { dirArg, rejectUnknownFlags } from '../args.js';
import { UsageError } from '../errors.js';

const args = {
  ...dirArg,
  port: { type: 'string', description: 'TCP port (default 3000, or PORT)' },
  host: { type: 'string', description: 'Address to listen on (default 127.0.0.1, or HOST)' },
  entry: { type: 'string', description: 'The app entry (default: src/app.ts, src/server.ts, src/main.ts, src/index.ts, then package.json main)' },
  debug: { type: 'boolean', description: 'Print where the milliseconds of every reload go' },
  typecheck: { type: 'boolean', description: 'Run tsc --noEmit --watch beside the server (never blocks a reload)' },
  spares: { type: 'string', description: 'Warm spare workers kept ready for the next save (default 2; 0 for none, less memory)' },
} as const;

export default defineCommand({
  meta: {
    name: 'dev',
    description: 'Develop: every save goes live with no failed request, and a broken edit never takes the server down',
  },
  args,
  async run({ args: parsed, rawArgs }) {
    rejectUnknownFlags('dev', rawArgs, args);
    const flags = { port: parsed.port, host: parsed.host, entry: parsed.entry };
    const spares = parseSpares(parsed.spares);
    const settings = await appSettings(parsed.dir, flags);
    const { runDevServer } = await import('@fwjs/dev');
    process.exitCode = await runDevServer({
      appDir: settings.appDir,
      entry: settings.entry,
      ...(settings.entryKind ? { entryKind: settings.entryKind } : {}),
      host: settings.host,
      port: settings.port,
      debug: parsed.debug === true,
      typecheck: parsed.typecheck === true,
      ...(spares === undefined ? {} : { spares }),
      reloadSettings: async () => {
        const next = await appSettings(parsed.dir, flags);
        return { entry: next.entry, host: next.host, port: next.port };
      },
    });
  },
});

function parseSpares(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[0-4]$/.test(value.trim())) throw new UsageError(`invalid --spares "${value}": expected a whole number from 0 to 4, e.g. 2`);
  return Number(value);
}
