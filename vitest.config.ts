import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{runtime,behaviors,perception,study-protocol,data,hardware,test}/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
