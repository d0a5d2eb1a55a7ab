import type { ArgsDef } from 'citty';
import { type ControlRequest, type ControlResponse, controlRequest } from '@fwjs/runtime';
import { appPaths } from '@fwjs/core';
import { resolveAppDir } from './app-context.js';
import { dirArg } from './args.js';
import { MasterError } from './errors.js';

/** The arguments of every command that talks to a running master: the app folder and instance. */
export const masterArgs = {
  ...dirArg,
  instance: { type: 'string', description: 'The named instance (fw start --instance)' },
} as const satisfies ArgsDef;

/** The files of the running master that `fw <command> [dir] [--instance NAME]` addresses. */
export function masterPaths(parsed: { dir?: string; instance?: string }): ReturnType<typeof appPaths> {
  return appPaths(resolveAppDir(parsed.dir), parsed.instance);
}

type Command = ControlRequest['command'];

/**
 * Sends one request to the master and returns its answer to that command. An error answer (or
 * an answer to another command) throws with the master's message.
 */
export async function askMaster<C extends Command>(
  parsed: { dir?: string; instance?: string },
  request: Extract<ControlRequest, { command: C }>,
  timeoutMs: number,
): Promise<Extract<ControlResponse, { command: C }>> {
  const response = await controlRequest(masterPaths(parsed).controlSocket, request, timeoutMs);
  if (response.command === 'error') throw new MasterError(`the master refused "${request.command}": ${response.error.message}`, response.error.stack);
  if (response.command !== request.command) {
    throw new MasterError(`the master answered "${request.command}" with "${response.command}": is it an older or newer fw? "fw upgrade" aligns them`);
  }
  return response as Extract<ControlResponse, { command: C }>;
}
