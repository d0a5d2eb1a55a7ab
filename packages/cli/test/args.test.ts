import { describe, expect, it } from 'vitest';
import { rejectUnknownFlags } from '../src/args.js';

const args = {
  dir: { type: 'positional' },
  port: { type: 'string' },
  'graceful-timeout': { type: 'string' },
  force: { type: 'boolean', alias: 'f' },
} as const;

describe('rejectUnknownFlags', () => {
  it('accepts known flags in every spelling citty parses', () => {
    expect(() => rejectUnknownFlags('start', ['app', '--port', '3000', '--graceful-timeout=5', '-f', '--no-force', '--help'], args)).not.toThrow();
  });

  it('names the unknown flag and the command', () => {
    expect(() => rejectUnknownFlags('start', ['--prot=3000'], args)).toThrow('unknown option --prot for "fw start": see "fw start --help"');
  });

  it('leaves negative numbers and everything after -- alone', () => {
    expect(() => rejectUnknownFlags('start', ['--port', '-1', '--', '--anything'], args)).not.toThrow();
  });
});
