/** esbuild's (or SWC's) errors, formatted with file, line and a code frame. */
export class BuildError extends Error {
  override name = 'BuildError';
  constructor(readonly formatted: string) {
    super(formatted);
  }
}

/** The entry named by the settings does not exist (a usage error: nothing was built). */
export class MissingEntryError extends Error {
  override name = 'MissingEntryError';
}
