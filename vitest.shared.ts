// The vitest settings every package shares: tests run against the packages' TypeScript sources
// (the `@skein/source` export condition), unit tests beside the code and integration tests in test/.
import { defineConfig } from 'vitest/config';

export function packageTestConfig(): ReturnType<typeof defineConfig> {
  return defineConfig({
    resolve: { conditions: ['@skein/source'] },
    ssr: { resolve: { conditions: ['@skein/source'] } },
    test: {
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      testTimeout: 30_000,
      hookTimeout: 60_000,
    },
  });
}
