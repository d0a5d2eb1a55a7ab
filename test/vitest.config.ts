import { defineConfig } from 'vitest/config';

// Real processes, sockets and load: one file at a time, so the tests do not compete for the two
// cores and every timing they see is their own. Each test bounds its own waits.
export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['.tmp/**', 'node_modules/**'],
    fileParallelism: false,
    // Generous: a test that builds, boots and reloads several times may take minutes on a loaded
    // machine; each wait inside a test has its own, tighter bound.
    testTimeout: 300_000,
    hookTimeout: 120_000,
  },
});
