// Cluster and container suites (`npm run e2e`): they need `npm run cluster:up` and
// `npm run images` first, run one file at a time, and collect diagnostics when they fail.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['@skein/source'] },
  ssr: { resolve: { conditions: ['@skein/source'] } },
  test: {
    include: ['src/**/*.e2e.test.ts'],
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 600_000,
    env: { TESTCONTAINERS_RYUK_DISABLED: 'true' },
  },
});
