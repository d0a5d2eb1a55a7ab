/** Bad input (a flag, a name, a folder): printed as one line, exit code 2, nothing written. */
export class CreateError extends Error {
  override name = 'CreateError';
}

/** The person stopped it (Ctrl-C at a prompt, or a signal while writing): nothing is left behind. */
export class CancelledError extends Error {
  override name = 'CancelledError';
  constructor() {
    super('cancelled: nothing was written');
  }
}
