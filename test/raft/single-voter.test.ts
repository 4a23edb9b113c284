import { describe, expect, it } from 'vitest';
import swarm from '../../scenarios/swarm.ts';
import { runOnce } from '../../sim/run.ts';

/**
 * A quorum of one voter: the leader is a majority by itself, so check-quorum never expires
 * (LeaderState counts the leader among the voters it has heard from). raft.leader-resigns-without-
 * majority must not fire there, even when the leader would never resign (KAFKA-15489): it fired at
 * 3 s with no fault at all.
 */
describe('check-quorum with a single voter', () => {
  it('a one-voter leader never violates raft.leader-resigns-without-majority, with or without KAFKA-15489', () => {
    for (const bugs of ['', 'KAFKA-15489']) {
      const r = runOnce({ file: 'scenarios/swarm.ts', scenario: swarm, seed: 19, mode: 'kraft', overrides: { 'kraft.controllers': 1, bugs }, untilUs: 600_000_000 });
      expect(r.violation, JSON.stringify(r.violation)).toBeNull();
    }
  });
});
