export { defineConfig } from './config/define-config.js';
export type { FwConfig } from './config/define-config.js';
