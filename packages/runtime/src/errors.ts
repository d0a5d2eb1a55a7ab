import { FwError } from '@fwjs/core';

/** No master answers on the control socket: fw reload, stop, status or upgrade has nobody to ask. */
export class ControlUnavailableError extends FwError {
  override readonly code = 'FW_NO_MASTER';
  override name = 'ControlUnavailableError';
}

/** Another live master holds this app's pid file: a second fw start would fight it for the sockets. */
export class AlreadyRunningError extends FwError {
  override readonly code = 'FW_ALREADY_RUNNING';
  override name = 'AlreadyRunningError';
}

/** The pid file cannot be written (a full disk, no permission, a read-only file system…). */
export class PidFileError extends FwError {
  override readonly code = 'FW_PID_FILE';
  override name = 'PidFileError';
}
