import path from 'node:path';
import { defineCommand } from 'citty';
import { appSettings } from '../app-context.js';
import { dirArg, rejectUnknownFlags } from '../args.js';
import { publishRelease } from '@fwjs/build';

const args = {
  ...dirArg,
  entry: { type: 'string', description: 'The app entry (default: src/app.ts, src/server.ts, src/main.ts, src/index.ts, then package.json main)' },
} as const;

export default defineCommand({
  meta: { name: 'build', description: 'Make a release of the app in <dir>/.fw/build that keeps its layout, atomically' },
  args,
  async run({ args: parsed, rawArgs }) {
    rejectUnknownFlags('build', rawArgs, args);
    const settings = await appSettings(parsed.dir, { entry: parsed.entry });
    const result = await publishRelease(settings.appDir, settings.entry);
    if (result.warnings) process.stderr.write(result.warnings);
    const where = path.relative(process.cwd(), path.join(settings.appDir, '.fw', 'build')) || '.fw/build';
    process.stdout.write(`built ${settings.entry} → ${where} (build ${result.build.id}, ${result.files} files) in ${result.ms} ms\n`);
  },
});
