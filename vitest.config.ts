import { configDefaults, defineConfig } from 'vitest/config'
import SlowFirstSequencer from './test/helpers/sequencer.ts'

// Two projects, chosen by file name (README, "Tests"):
// - fast: in-process tests (app.inject or a listening app against a migrated template database):
//   every src/**/*.test.ts and bench/**/*.test.ts that is not one of the below.
// - slow: spawned processes, the CLI as a child process, kill tests, Chromium:
//   test/**/*.test.ts, **/*.process.test.ts, **/*.browser.test.ts.
const SLOW = ['test/**/*.test.ts', '**/*.process.test.ts', '**/*.browser.test.ts']
const FAST = ['src/**/*.test.ts', 'bench/**/*.test.ts']
// Generous limits, for both: CI shares a 2-core machine, where a test that starts its own PGlite
// or races four routers can take 30 s under load and well under 5 s on a quiet machine. A test that
// hangs still fails; no test asserts a duration.
const timeouts = { testTimeout: 120_000, hookTimeout: 180_000 }

export default defineConfig({
  test: {
    // Runs once for the whole run (both projects): the migrated template database (test/helpers/global-setup.ts).
    globalSetup: ['test/helpers/global-setup.ts'],
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default'],
    sequence: { sequencer: SlowFirstSequencer },
    projects: [
      {
        test: {
          name: 'fast',
          // A worker keeps its modules and its PGlite from file to file (test/helpers/store.ts).
          isolate: false,
          include: FAST,
          exclude: [...configDefaults.exclude, ...SLOW],
          ...timeouts,
        },
      },
      {
        test: {
          name: 'slow',
          include: SLOW,
          ...timeouts,
        },
      },
    ],
  },
})
