// Cluster-free tests of the e2e package itself (echo app on loopback, the kube-apiserver
// fixture): part of `npm test`.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['@skein/source'] },
  ssr: { resolve: { conditions: ['@skein/source'] } },
  test: {
    include: ['src/**/*.test.ts'],
    exclude: ['src/**/*.e2e.test.ts', '**/node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 180_000,
  },
});
