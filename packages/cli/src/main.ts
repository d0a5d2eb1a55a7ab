import { createRequire } from 'node:module';
import { defineCommand, runCommand, showUsage, type CommandDef } from 'citty';
import type { BuildError, MissingEntryError } from '@fwjs/build';
import type { BindError, NoBuildError } from '@fwjs/core';
import type { AlreadyRunningError, ControlUnavailableError, PidFileError } from '@fwjs/runtime';
import { type MasterError, UsageError } from './errors.js';

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

/** The codes reported below: the type-only imports check each one against its class. */
type ReportedCode =
  | UsageError['code']
  | MissingEntryError['code']
  | BuildError['code']
  | ControlUnavailableError['code']
  | AlreadyRunningError['code']
  | PidFileError['code']
  | NoBuildError['code']
  | BindError['code']
  | MasterError['code'];

/**
 * What fw prints for the error that ended a command, and the exit code, chosen by the error's
 * stable code (docs/errors.md). By code, not by class: importing @fwjs/build's or @fwjs/runtime's
 * classes here would load the builder (and get-tsconfig) or the master for every command. And a
 * code is read from any error that carries one, so an error from a second copy of a package
 * (where instanceof would fail) is still reported as what it is.
 */
function report(error: unknown): { text: string; exitCode: number } {
  const code = error instanceof Error ? (error as { code?: unknown }).code : undefined;
  // Any other string (a Node.js ENOENT…) matches no case below: it is reported with its stack.
  switch (code as ReportedCode | undefined) {
    // Bad input: one line, exit code 2, nothing started.
    case 'FW_USAGE':
    case 'FW_MISSING_ENTRY':
      return { text: `fw: ${(error as Error).message}\n`, exitCode: 2 };
    case 'FW_BUILD_FAILED':
      return { text: `fw: build failed\n${(error as BuildError).formatted}`, exitCode: 1 };
    // Refusals whose message says what to do: one line, exit code 1, no stack.
    case 'FW_NO_MASTER':
    case 'FW_ALREADY_RUNNING':
    case 'FW_PID_FILE':
    case 'FW_NO_BUILD':
    case 'FW_BIND_FAILED':
    case 'FW_MASTER_REFUSED':
      return { text: `fw: ${(error as Error).message}\n`, exitCode: 1 };
  }
  // citty's own argument errors (a missing required argument…) are bad input too. It exports no
  // class to test and its codes are its own, so its name is what tells them apart.
  if (error instanceof Error && error.name === 'CLIError') return { text: `fw: ${error.message}\n`, exitCode: 2 };
  // Anything else is unexpected: the stack is what a bug report needs.
  return { text: `fw: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`, exitCode: 1 };
}

main(process.argv.slice(2)).catch((error: unknown) => {
  const { text, exitCode } = report(error);
  process.stderr.write(text);
  process.exitCode = exitCode;
});
