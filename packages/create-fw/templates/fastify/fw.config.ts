import { defineConfig } from 'fwjs';

// Settings for fw dev and fw start. Command-line flags beat the environment (PORT, HOST,
// WEB_CONCURRENCY, …), which beats this file.
export default defineConfig({
  entry: 'src/app.ts',
  port: 3000,
  gracefulTimeout: 30,
});
