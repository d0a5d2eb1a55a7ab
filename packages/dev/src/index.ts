export { runDevServer } from './dev-server.js';
export type { DevOptions, DevSettings } from './dev-server.js';
export { DevReleases } from './dev-releases.js';
export type { BuildOutcome } from './dev-releases.js';
export { WarmSpawner } from './warm-spawner.js';
export { classify, watchApp } from './watcher.js';
export type { Change, ChangeKind } from './watcher.js';
