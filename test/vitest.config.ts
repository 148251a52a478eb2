import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

export default defineConfig({
  root,
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          // Projects with different worker limits need their own group: the pure tests run first, then the rest.
          sequence: { groupOrder: 0 },
          // A few pure tests drive kube-sim's controllers in memory for simulated seconds; on a busy 2-core machine
          // vitest's 5 s default is too close.
          testTimeout: 30_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          sequence: { groupOrder: 1 },
          globalSetup: ['test/support/global-setup.ts'],
          setupFiles: ['test/support/leak-check.ts'],
          testTimeout: 120_000,
          hookTimeout: 60_000,
          pool: 'forks',
          maxWorkers: 2,
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          sequence: { groupOrder: 2 },
          globalSetup: ['test/support/global-setup.ts', 'test/e2e/support/build-web.ts'],
          setupFiles: ['test/support/leak-check.ts'],
          // A test drives a real rollout on kube-sim through a browser: seconds of simulated rollout, plus chromium
          // sharing two cores with the rest of the run.
          testTimeout: 180_000,
          hookTimeout: 90_000,
          pool: 'forks',
          // One chromium at a time: two would fight over the cores the engine and kube-sim need.
          maxWorkers: 1,
        },
      },
    ],
  },
});
