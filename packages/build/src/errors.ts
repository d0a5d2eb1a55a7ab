import { FwError } from '@fwjs/core';

/** esbuild's (or SWC's) errors, formatted with file, line and a code frame. */
export class BuildError extends FwError {
  override readonly code = 'FW_BUILD_FAILED';
  override name = 'BuildError';
  constructor(readonly formatted: string) {
    super(formatted);
  }
}

/** The entry named by the settings does not exist (a usage error: nothing was built). */
export class MissingEntryError extends FwError {
  override readonly code = 'FW_MISSING_ENTRY';
  override name = 'MissingEntryError';
}
