import { describe, expect, it } from 'vitest';
import { goldenHash, readBaseline } from './golden.ts';

/**
 * Golden traces: every library scenario at seed 42, in each of its modes, must reproduce the trace
 * hash committed in trace-hashes.json. A change that moves one updates the baseline in the same
 * commit (`npx tsx scripts/golden.ts --update`) and says why in its message.
 */
const baseline = readBaseline();

describe('golden trace hashes (test/golden/trace-hashes.json)', () => {
  for (const e of baseline.runs) {
    it(`${e.file} ${e.mode ?? '-'} ${e.sets.join(' ')}`.trim(), async () => {
      expect(await goldenHash(e, baseline.seed)).toBe(e.traceHash);
    });
  }
});
