import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

// Workspace packages export their TypeScript sources under the `source` condition, so tests run
// against the code as written; the apps' processes started by end-to-end tests run the build.
// Not Vite's `module` condition: Node ignores it, and packages such as OpenTelemetry's point it
// at ESM builds that import without file extensions, which Node cannot load once externalized.
const conditions = ['source', ...defaultServerConditions.filter((c) => c !== 'module')];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    globalSetup: ['./test/global-setup.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['packages/*/src/**/*.test.ts', 'addons/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: [
            'packages/*/test/**/*.test.ts',
            'addons/*/test/**/*.test.ts',
            'apps/*/test/**/*.test.ts',
            'test/*.test.ts',
          ],
          exclude: ['**/test/faults/**', '**/node_modules/**'],
        },
      },
      {
        extends: true,
        test: {
          // Fault tests stop, pause and kill servers of their own; they run one file at a time.
          name: 'faults',
          include: ['packages/*/test/faults/**/*.test.ts', 'apps/*/test/faults/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 120_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 180_000,
        },
      },
    ],
  },
});
