export { runDevServer } from './dev-server.js';
export type { DevOptions, DevSettings } from './dev-server.js';
export { IncrementalBuilder } from './incremental-builder.js';
export type { BuildOutcome } from './incremental-builder.js';
export { WarmSpawner } from './warm-spawner.js';
export { classify, watchApp } from './watcher.js';
export type { Change, ChangeKind } from './watcher.js';
