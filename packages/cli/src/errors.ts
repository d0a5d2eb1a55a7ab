// Only the errors module, not @fwjs/core's index: main.ts loads this for every command, fw --version included.
import { FwError } from '@fwjs/core/errors';

/** Bad flags, environment or config: printed as one line, exit code 2, nothing started. */
export class UsageError extends FwError {
  override readonly code = 'FW_USAGE';
  override name = 'UsageError';
}

/** The master answered with an error (or with an answer to another request, e.g. an older fw). */
export class MasterError extends FwError {
  override readonly code = 'FW_MASTER_REFUSED';
  override name = 'MasterError';
  constructor(
    message: string,
    /** The master's own stack, when it sent one. */
    readonly masterStack?: string,
  ) {
    super(message);
  }
}
