import path from 'node:path';
import { defineCommand } from 'citty';
import { appSettings } from '../app-context.js';
import { dirArg, rejectUnknownFlags } from '../args.js';
import { buildApp } from '../build/bundle.js';

const args = {
  ...dirArg,
  entry: { type: 'string', description: 'The app entry (default src/app.ts)' },
} as const;

export default defineCommand({
  meta: { name: 'build', description: 'Bundle the app into <dir>/.fw/build, atomically' },
  args,
  async run({ args: parsed, rawArgs }) {
    rejectUnknownFlags('build', rawArgs, args);
    const settings = await appSettings(parsed.dir, { entry: parsed.entry });
    const result = await buildApp(settings.appDir, settings.entry);
    if (result.warnings) process.stderr.write(result.warnings);
    const where = path.relative(process.cwd(), path.join(settings.appDir, '.fw', 'build')) || '.fw/build';
    process.stdout.write(`built ${settings.entry} → ${where} (build ${result.build.id}) in ${result.ms} ms\n`);
  },
});
