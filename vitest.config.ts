import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { defineConfig } from 'vitest/config';

/**
 * The test files that take the most CPU (KRAFTSIM_TEST_CPU, test/cpu-report.ts), heaviest first.
 * They start first, so that two workers finish together instead of one of them running the corpus
 * alone at the end; a fresh clone has no timings cached to order by.
 */
const HEAVY_FIRST = [
  'test/check/corpus.test.ts',
  'test/cli/robust.test.ts',
  'test/sweep/sweep.test.ts',
  'test/golden/golden.test.ts',
  'test/cli/run.test.ts',
  'test/cli/check.test.ts',
  'test/zkmode/linearizable.test.ts',
  'test/shrink/cli.test.ts',
  'test/compare/compare.test.ts',
  'test/report/report.test.ts',
  'test/zkmode/calibration.test.ts',
  'test/zkmode/zombie.test.ts',
];

class HeavyFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (f: TestSpecification): number => {
      const i = HEAVY_FIRST.indexOf(relative(f.project.config.root, f.moduleId).split('\\').join('/'));
      return i < 0 ? HEAVY_FIRST.length : i;
    };
    return sorted.map((f, i) => ({ f, i })).sort((a, b) => rank(a.f) - rank(b.f) || a.i - b.i).map((x) => x.f);
  }
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // KRAFTSIM_TEST_CPU=<file>: CPU seconds per test file, appended to <file> (test/cpu-report.ts).
    setupFiles: process.env['KRAFTSIM_TEST_CPU'] ? ['test/cpu-report.ts'] : [],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // A worker keeps the modules it imported for the next test file (the models are imported and
    // transformed once per worker, not once per file: half the CPU of the small files). Test files
    // share no state: none patches globals without restoring them, changes directory or environment.
    isolate: false,
    // Two test files at a time on the two cores (the default leaves one core idle for most files,
    // which run on one thread); the files that spawn CLIs or use worker threads spread on their own.
    maxWorkers: 2,
    sequence: { sequencer: HeavyFirst },
  },
});
