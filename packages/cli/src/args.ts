import type { ArgsDef } from 'citty';
import { UsageError } from './errors.js';

/** citty accepts any flag; a typo like `--prot` must not be silently ignored. */
export function rejectUnknownFlags(command: string, rawArgs: string[], args: ArgsDef): void {
  const known = new Set<string>(['help', 'h']);
  for (const [name, def] of Object.entries(args)) {
    known.add(name);
    known.add(toKebab(name));
    const aliases = 'alias' in def ? def.alias : undefined;
    for (const alias of [aliases ?? []].flat()) known.add(alias);
  }
  for (const token of rawArgs) {
    if (token === '--') break;
    if (!token.startsWith('-') || token === '-' || /^-\d/.test(token)) continue;
    const name = token.replace(/^--?/, '').split('=')[0] ?? '';
    const bare = name.startsWith('no-') ? name.slice(3) : name;
    if (!known.has(name) && !known.has(bare)) {
      throw new UsageError(`unknown option ${token.split('=')[0]} for "fw ${command}": see "fw ${command} --help"`);
    }
  }
}

function toKebab(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
}

/** The app folder argument, resolved against the current directory. */
export const dirArg = {
  dir: { type: 'positional', required: false, default: '.', description: 'The app folder' },
} as const satisfies ArgsDef;

/** Every value of a flag given more than once (`--bind a --bind b`); citty keeps only the last. */
export function repeatedFlag(rawArgs: string[], name: string): string[] {
  const values: string[] = [];
  for (let i = 0; i < rawArgs.length; i++) {
    const token = rawArgs[i]!;
    if (token === '--') break;
    if (token === `--${name}` && rawArgs[i + 1] !== undefined) values.push(rawArgs[++i]!);
    else if (token.startsWith(`--${name}=`)) values.push(token.slice(name.length + 3));
  }
  return values;
}
