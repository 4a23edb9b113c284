import { describe, expect, it } from 'vitest';
import type { FaultStep } from '../../core/index.ts';
import { buildQuorum } from './harness.ts';

/** controller-2 loses its links for 4 s, gets them back for 2 s, five times over. */
function flapping(): FaultStep[] {
  const steps: FaultStep[] = [];
  for (let i = 0; i < 5; i++) {
    const at = 3000 + i * 6000;
    steps.push({ atMs: at, action: { type: 'partition', shape: { type: 'isolate', node: 'controller-2' } } }, { atMs: at + 4000, action: { type: 'heal' } });
  }
  return steps;
}

describe('KIP-996 pre-vote', () => {
  it('bumps the epoch less under a flapping link than plain elections do', () => {
    let withPreVote = 0;
    let without = 0;
    for (let seed = 1; seed <= 6; seed++) {
      for (const preVote of [false, true]) {
        const q = buildQuorum({ voters: 3, seed, preVote });
        q.run(36_000, { steps: flapping() });
        expect(q.sim.props.violation).toBeNull();
        const leader = q.leader();
        expect(leader).not.toBeNull();
        if (preVote) withPreVote += leader!.epoch;
        else without += leader!.epoch;
      }
    }
    expect(withPreVote).toBeLessThan(without);
    // With pre-vote the isolated node never disturbs the leader: the epoch stays where it began.
    expect(withPreVote).toBeLessThanOrEqual(6 * 2);
  });
});
