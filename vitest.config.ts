// The project's own tests: unit tests first (parallel), then integration tests against
// the real embedded lab (one file at a time: they share the lab and both CPU cores), then
// the fault suite in the same lab.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    setupFiles: ['src/vitest/setup.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['test/integration/**', 'test/faults/**'],
          // Vitest's default is one worker fewer than the CPUs: one, on a 2-core runner. Much of
          // the unit time is waiting (servers, subprocesses, Chromium), so two workers take
          // 73 s where one took 132 s on this machine.
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/integration/global-setup.ts'],
          fileParallelism: false,
          testTimeout: 600_000,
          hookTimeout: 600_000,
          sequence: { groupOrder: 1 },
        },
      },
      {
        extends: true,
        test: {
          // Faults injected into real migrations in the lab (npm run test:faults).
          name: 'faults',
          include: ['test/faults/**/*.test.ts'],
          globalSetup: ['test/integration/global-setup.ts'],
          fileParallelism: false,
          testTimeout: 600_000,
          hookTimeout: 600_000,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
