import { defineConfig } from 'vitest/config';

/** The README's commands (`npm run demo` rebuilds dist/, which the other suites spawn): run after all of them. */
const AFTER_EVERYTHING = ['test/readme-commands.test.ts'];

export default defineConfig({
  test: {
    // The console view is served from its build; tests run from source, so build it first.
    globalSetup: ['test/helpers/build-view.ts'],
    // Generous: a test waits for events, and on a loaded 2-core CI machine spawning servers and browsers is slow.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default'],
    projects: [
      { extends: true, test: { name: 'suite', include: ['test/**/*.test.ts'], exclude: AFTER_EVERYTHING, sequence: { groupOrder: 0 } } },
      { extends: true, test: { name: 'readme', include: AFTER_EVERYTHING, sequence: { groupOrder: 1 } } },
    ],
  },
});
