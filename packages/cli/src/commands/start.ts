import { defineCommand } from 'citty';
import { hasBuild, runMaster } from '@fw/runtime';
import { appSettings } from '../app-context.js';
import { dirArg, rejectUnknownFlags } from '../args.js';
import { buildApp } from '../build/bundle.js';

const args = {
  ...dirArg,
  port: { type: 'string', description: 'TCP port (default 3000, or PORT)' },
  host: { type: 'string', description: 'Address to listen on (default 127.0.0.1, or HOST)' },
  workers: { type: 'string', description: 'Worker processes (default: CPU count, or WEB_CONCURRENCY)' },
  'graceful-timeout': { type: 'string', description: 'Seconds a draining worker may take (default 30)' },
  'boot-timeout': { type: 'string', description: 'Seconds a new worker may take to become ready (default 30)' },
  entry: { type: 'string', description: 'The app entry, used when there is no build yet (default src/app.ts)' },
} as const;

export default defineCommand({
  meta: {
    name: 'start',
    description: 'Run the app: a master that owns the socket and N workers. HUP reloads, TERM stops.',
  },
  args,
  async run({ args: parsed, rawArgs }) {
    rejectUnknownFlags('start', rawArgs, args);
    const settings = await appSettings(parsed.dir, {
      port: parsed.port,
      host: parsed.host,
      workers: parsed.workers,
      gracefulTimeout: parsed['graceful-timeout'],
      bootTimeout: parsed['boot-timeout'],
      entry: parsed.entry,
    });
    if (!(await hasBuild(settings.appDir))) {
      const result = await buildApp(settings.appDir, settings.entry);
      process.stdout.write(`[fw] no build yet: built ${settings.entry} (build ${result.build.id}) in ${result.ms} ms\n`);
    }
    process.exitCode = await runMaster({
      appDir: settings.appDir,
      binds: [{ kind: 'tcp', host: settings.host, port: settings.port }],
      workers: settings.workers,
      gracefulTimeoutMs: settings.gracefulTimeoutMs,
      bootTimeoutMs: settings.bootTimeoutMs,
    });
  },
});
