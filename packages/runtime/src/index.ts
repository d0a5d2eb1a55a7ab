export { runMaster } from './master.js';
export type { MasterOptions } from './master.js';
export { appPaths, BUILD_ENTRY_FILE } from './app-paths.js';
export { latestBuild, hasBuild, publishBuild, NoBuildError } from './build-store.js';
export { controlRequest, ControlUnavailableError } from './control-client.js';
export type { ControlRequest, ControlResponse, MasterStatus } from './control-protocol.js';
export { runningMasterPid, AlreadyRunningError } from './pid-file.js';
export { BindError } from './sockets.js';
export type { Bind, TcpBind } from './sockets.js';
