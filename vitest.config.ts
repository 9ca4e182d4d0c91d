import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'libs/*/test/**/*.test.ts',
      'streams/test/**/*.test.ts',
      'apps/*/test/**/*.test.ts',
      'test/**/*.test.ts',
    ],
    // Integration tests spawn real nats-server / redis-server processes; forks keep
    // each file's servers and sockets in a process of its own.
    pool: 'forks',
    // Vitest's default is one worker less than the cores: one on a two-core machine. The
    // integration tests mostly wait on the processes they start, so two files at once
    // on two cores took the whole run from 677 s to 492 s (2026-11-29), all passing.
    maxWorkers: Math.max(2, availableParallelism()),
    // A test's own waits have their deadlines; this is the whole test's budget, which a
    // full run on two cores (every file's servers at once) can stretch: two multi-step
    // tests passed alone in a few seconds and timed out at 30 s in full CI runs.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
