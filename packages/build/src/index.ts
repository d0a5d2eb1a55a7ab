export { ReleaseBuilder, commonAncestor } from './release-builder.js';
export type { ReleaseBuilderOptions } from './release-builder.js';
export { writeRelease } from './release-writer.js';
export type { WrittenRelease } from './release-writer.js';
export type { Release, ReleaseFile } from './release.js';
// Every error class with its stable code (docs/errors.md).
export * from './errors.js';
export { publishRelease } from './publish.js';
export type { PublishedRelease } from './publish.js';
