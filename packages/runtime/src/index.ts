export { runMaster } from './master.js';
export { renderMetrics } from './metrics.js';
export type { MasterOptions } from './master.js';
export { controlRequest } from './control-client.js';
export type { ControlRequest, ControlResponse, MasterStatus } from './control-protocol.js';
export { runningMasterPid } from './pid-file.js';
// Every error class with its stable code (docs/errors.md).
export * from './errors.js';
export { renderSystemdUnits, notifySystemd } from './systemd.js';
export type { SystemdUnitOptions } from './systemd.js';
