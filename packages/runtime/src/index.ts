export { runMaster } from './master.js';
export { renderMetrics } from './metrics.js';
export type { MasterOptions } from './master.js';
export { controlRequest, ControlUnavailableError } from './control-client.js';
export type { ControlRequest, ControlResponse, MasterStatus } from './control-protocol.js';
export { runningMasterPid, AlreadyRunningError, PidFileError } from './pid-file.js';
export { renderSystemdUnits, notifySystemd } from './systemd.js';
export type { SystemdUnitOptions } from './systemd.js';
