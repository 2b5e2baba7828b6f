// Lint for the whole workspace: TypeScript rules plus the module boundaries between packages.
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

const ioModules = [
  'node:fs',
  'node:fs/promises',
  'node:net',
  'node:http',
  'node:http2',
  'node:https',
  'node:tls',
  'node:dgram',
  'node:child_process',
  'node:worker_threads',
  'node:dns',
  'node:os',
  'fs',
  'net',
  'http',
  'http2',
  'https',
  'tls',
  'dgram',
  'child_process',
  '@grpc/grpc-js',
  '@kubernetes/client-node',
  'undici',
  'prom-client',
];

export default [
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      '**/src/gen/**',
      '**/build/**',
      '**/.nx/**',
      'tools/lint-fixtures/**',
    ],
  },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          // skeinctl loads skeind's code (translation, injector) only in the commands that run
          // it, so --help starts fast; its analyzers import it statically behind that.
          checkDynamicDependenciesExceptions: ['@skein/control-plane'],
          depConstraints: [
            { sourceTag: 'scope:api-types', onlyDependOnLibsWithTags: [] },
            { sourceTag: 'scope:ca', onlyDependOnLibsWithTags: ['scope:api-types'] },
            { sourceTag: 'scope:proxy', onlyDependOnLibsWithTags: ['scope:api-types', 'scope:ca'] },
            {
              sourceTag: 'scope:agent',
              onlyDependOnLibsWithTags: ['scope:api-types', 'scope:ca', 'scope:proxy'],
            },
            {
              sourceTag: 'scope:control-plane',
              onlyDependOnLibsWithTags: ['scope:api-types', 'scope:ca', 'scope:agent'],
            },
            { sourceTag: 'scope:cli', onlyDependOnLibsWithTags: ['*'] },
            { sourceTag: 'scope:e2e', onlyDependOnLibsWithTags: ['*'] },
            { sourceTag: 'scope:tools', onlyDependOnLibsWithTags: ['*'] },
          ],
        },
      ],
    },
  },
  {
    // Each package's vitest.config.ts takes the shared settings from the workspace root; that file
    // is build configuration, not a library, so the module boundaries do not apply to it.
    files: ['**/vitest.config.ts'],
    rules: { '@nx/enforce-module-boundaries': 'off' },
  },
  {
    // The translation core is pure: snapshot + proxy view in, xDS objects out. No I/O.
    files: ['packages/control-plane/src/translate/**/*.ts', 'packages/control-plane/src/model/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ioModules.map((name) => ({
            name,
            message: 'translate/ and model/ are pure: do I/O in ingest/ or serve/.',
          })),
        },
      ],
    },
  },
  prettier,
];
