import { defineCommand } from 'citty';
import { appSettings } from '../app-context.js';
import { dirArg, rejectUnknownFlags } from '../args.js';

const args = {
  ...dirArg,
  port: { type: 'string', description: 'TCP port (default 3000, or PORT)' },
  host: { type: 'string', description: 'Address to listen on (default 127.0.0.1, or HOST)' },
  entry: { type: 'string', description: 'The app entry (default src/app.ts)' },
  debug: { type: 'boolean', description: 'Print where the milliseconds of every reload go' },
  typecheck: { type: 'boolean', description: 'Run tsc --noEmit --watch beside the server (never blocks a reload)' },
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
    const settings = await appSettings(parsed.dir, flags);
    const { runDevServer } = await import('@fw/dev');
    process.exitCode = await runDevServer({
      appDir: settings.appDir,
      entry: settings.entry,
      host: settings.host,
      port: settings.port,
      debug: parsed.debug === true,
      typecheck: parsed.typecheck === true,
      reloadSettings: async () => {
        const next = await appSettings(parsed.dir, flags);
        return { entry: next.entry, host: next.host, port: next.port };
      },
    });
  },
});
