import { describe, expect, it } from 'vitest';
import { AppContractError, BindError, FwError, NoBuildError } from '../src/errors.js';
import { serializeError } from '../src/ipc.js';

describe('FwError', () => {
  it('gives each error its class code, and keeps instanceof working for the class and the base', () => {
    const error = new NoBuildError('no build in /app/.fw/build: run "fw build" first');
    expect(error).toBeInstanceOf(NoBuildError);
    expect(error).toBeInstanceOf(FwError);
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe('FW_NO_BUILD');
    expect(error.name).toBe('NoBuildError');
  });
});

describe('serializeError', () => {
  it('carries an fw error code across IPC and into JSON logs', () => {
    expect(serializeError(new BindError('port 3000 on 127.0.0.1 is already in use'))).toMatchObject({
      name: 'BindError',
      message: 'port 3000 on 127.0.0.1 is already in use',
      code: 'FW_BIND_FAILED',
    });
    expect(serializeError(new AppContractError('src/app.ts has no default export.')).code).toBe('FW_APP_CONTRACT');
  });

  it('carries no code for other errors, not even a Node.js one: a code there is always an fw code', () => {
    expect(serializeError(new Error('boom'))).not.toHaveProperty('code');
    expect(serializeError(Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' }))).not.toHaveProperty('code');
    expect(serializeError('a string')).toEqual({ name: 'Error', message: 'a string' });
  });
});
