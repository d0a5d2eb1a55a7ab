import { defineConfig } from 'vitest/config';

// The templates hold tests of their own, for the apps they become: they are not this package's.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
  },
});
