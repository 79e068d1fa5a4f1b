import { defineConfig } from 'vitest/config';

// Lives in test/ because the project's top level is fixed (SPEC §1).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 600_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
