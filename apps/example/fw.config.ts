import { defineConfig } from 'fwjs';

export default defineConfig({
  entry: 'src/app.ts',
  port: 3000,
  gracefulTimeout: 30,
});
