// create-fw runs on its own (npm create fw) and depends on no fw package, so its errors do not
// extend @fwjs/core's FwError; they carry stable codes all the same (docs/errors.md).

/** Bad input (a flag, a name, a folder): printed as one line, exit code 2, nothing written. */
export class CreateError extends Error {
  readonly code = 'FW_CREATE_USAGE';
  override name = 'CreateError';
}

/** The person stopped it (Ctrl-C at a prompt, or a signal while writing): nothing is left behind. */
export class CancelledError extends Error {
  readonly code = 'FW_CREATE_CANCELLED';
  override name = 'CancelledError';
  constructor() {
    super('cancelled: nothing was written');
  }
}
