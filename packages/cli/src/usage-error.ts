/** Bad flags, environment or config: printed as one line, exit code 2, nothing started. */
export class UsageError extends Error {
  override name = 'UsageError';
}
