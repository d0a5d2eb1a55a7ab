import { createRequire } from 'node:module';
import { defineCommand, runCommand, showUsage, type CommandDef } from 'citty';
import type { BuildError } from '@fwjs/build';
import { UsageError } from './usage-error.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

// Subcommands load lazily: `fw reload` never loads esbuild.
const subCommands = {
  create: () => import('./commands/create.js').then((module) => module.default),
  dev: () => import('./commands/dev.js').then((module) => module.default),
  build: () => import('./commands/build.js').then((module) => module.default),
  start: () => import('./commands/start.js').then((module) => module.default),
  reload: () => import('./commands/reload.js').then((module) => module.default),
  stop: () => import('./commands/stop.js').then((module) => module.default),
  status: () => import('./commands/status.js').then((module) => module.default),
  proxy: () => import('./commands/proxy.js').then((module) => module.default),
  systemd: () => import('./commands/systemd.js').then((module) => module.default),
  upgrade: () => import('./commands/upgrade.js').then((module) => module.default),
};

const fw = defineCommand({
  meta: { name: 'fw', version, description: 'Run Node.js web apps with zero downtime' },
  subCommands,
});

async function main(rawArgs: string[]): Promise<void> {
  const [first] = rawArgs;
  if (first === '--version' || first === '-v') {
    process.stdout.write(`${version}\n`);
    return;
  }
  if (!first || first === '--help' || first === '-h') {
    await showUsage(fw);
    return;
  }
  const load = subCommands[first as keyof typeof subCommands];
  if (!load) throw new UsageError(`unknown command "${first}": the commands are ${Object.keys(subCommands).join(', ')}`);
  const command = (await load()) as CommandDef;
  if (rawArgs.includes('--help') || rawArgs.includes('-h')) {
    await showUsage(command, fw);
    return;
  }
  await runCommand(command, { rawArgs: rawArgs.slice(1) });
}

main(process.argv.slice(2)).catch((error: unknown) => {
  // @fwjs/build's errors are told apart by name, as the master's are below: importing their
  // classes here would load the builder (and get-tsconfig) for every command, fw start included.
  const name = error instanceof Error ? error.name : '';
  if (error instanceof UsageError || name === 'MissingEntryError' || name === 'CLIError') {
    process.stderr.write(`fw: ${(error as Error).message}\n`);
    process.exitCode = 2;
    return;
  }
  if (name === 'BuildError') {
    process.stderr.write(`fw: build failed\n${(error as BuildError).formatted}`);
    process.exitCode = 1;
    return;
  }
  const known = error instanceof Error && ['ControlUnavailableError', 'AlreadyRunningError', 'PidFileError', 'NoBuildError', 'BindError', 'MasterError'].includes(error.name);
  process.stderr.write(`fw: ${known ? (error as Error).message : error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
