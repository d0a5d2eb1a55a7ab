import { realpathSync } from 'node:fs';
import path from 'node:path';
import { defineCommand } from 'citty';
import { renderSystemdUnits } from '@fwjs/runtime';
import { appSettings } from '../app-context.js';
import { dirArg, rejectUnknownFlags } from '../args.js';
import { UsageError } from '../errors.js';

const args = {
  ...dirArg,
  name: { type: 'string', description: 'Unit name (default: the app folder name)' },
  listen: { type: 'string', description: 'What the socket unit listens on: HOST:PORT, PORT or /run/NAME/app.sock (default: the app host:port)' },
  user: { type: 'string', description: 'User= for the service' },
  workers: { type: 'string', description: 'Workers (default: fw start decides)' },
} as const;

export default defineCommand({
  meta: { name: 'systemd', description: 'Print a systemd socket unit and service unit for the app (systemctl reload = HUP)' },
  args,
  async run({ args: parsed, rawArgs }) {
    rejectUnknownFlags('systemd', rawArgs, args);
    const settings = await appSettings(parsed.dir, { workers: parsed.workers });
    const name = parsed.name ?? path.basename(settings.appDir).replace(/[^A-Za-z0-9_.-]+/g, '-');
    if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new UsageError(`invalid --name "${name}": use letters, digits, ., - and _`);
    const units = renderSystemdUnits({
      name,
      appDir: settings.appDir,
      listen: parsed.listen ?? `${settings.host}:${settings.port}`,
      fwCommand: `${process.execPath} ${realpathSync(process.argv[1]!)}`,
      ...(parsed.workers ? { workers: settings.workers } : {}),
      gracefulTimeoutS: settings.gracefulTimeoutMs / 1000,
      ...(parsed.user ? { user: parsed.user } : {}),
    });
    process.stdout.write(`# /etc/systemd/system/${name}.socket\n${units.socket}\n# /etc/systemd/system/${name}.service\n${units.service}`);
  },
});
