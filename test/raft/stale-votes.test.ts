import { describe, expect, it } from 'vitest';
import { buildQuorum } from './harness.ts';

const CUT_MS = 5_000;
const HEAL_MS = 35_000;
const WINDOW_MS = 10_000;

/**
 * controller-2, a follower of the first leader, is cut off from the other two voters for 30 s, then
 * healed. Returns the leader before and after, the cut-off voter's epoch at heal, and how many of
 * its Vote requests reach each other voter in the 10 s after the heal.
 */
function cutOffVoter(seed: number, preVote: boolean) {
  const q = buildQuorum({ voters: 3, seed, preVote });
  const victim = q.voters[2]!;
  const votes = [0, 0];
  q.sim.trace.sink = (r) => {
    if (r.kind === 'deliver' && r.label === 'Vote' && r.peer === victim.id && r.atUs >= HEAL_MS * 1000 && r.atUs < (HEAL_MS + WINDOW_MS) * 1000) votes[r.node]!++;
  };
  q.run(HEAL_MS - 1, { steps: [{ atMs: CUT_MS, action: { type: 'partition', shape: { type: 'symmetric', a: [victim.name], b: [q.voters[0]!.name, q.voters[1]!.name] } } }] });
  const l = q.leader();
  const before = l === null ? null : { id: l.node.id, epoch: l.epoch };
  const victimEpoch = q.clients.get(victim.id)!.epoch;
  q.sim.at(HEAL_MS * 1000, () => q.sim.faults.apply({ type: 'heal-all' }));
  q.sim.run({ untilUs: (HEAL_MS + WINDOW_MS) * 1000 });
  const a = q.leader();
  return { before, after: a === null ? null : { id: a.node.id, epoch: a.epoch }, victimEpoch, votes, violation: q.sim.props.violation };
}

describe('a voter cut off from the quorum for 30 s, then healed', () => {
  it('without pre-vote: its Vote requests of a dozen stale epochs do not arrive in a burst, only its current one', () => {
    for (const seed of [1, 2, 3]) {
      const r = cutOffVoter(seed, false);
      expect(r.violation).toBeNull();
      expect(r.before).not.toBeNull();
      // It ran election after election while cut off …
      expect(r.victimEpoch).toBeGreaterThan(r.before!.epoch + 8);
      // … but the raft client closed each connection on its request timeout: the Votes held for the
      // old ones are gone. (On a network without connection close every one of them arrived at heal.)
      for (const n of r.votes) expect(n).toBeLessThanOrEqual(3);
      // Without pre-vote its current epoch still ends the healthy leader's (Kafka 3.9: a Vote of a
      // higher epoch moves every voter to it, KafkaRaftClient.handleVoteRequest) — once.
      expect(r.after).not.toBeNull();
      expect(r.after!.epoch).toBeGreaterThan(r.victimEpoch);
      expect(r.after!.epoch).toBeLessThanOrEqual(r.victimEpoch + 3);
    }
  });

  it('with pre-vote: the healthy leader keeps its epoch, and no burst of pre-votes arrives', () => {
    for (const seed of [1, 2, 3]) {
      const r = cutOffVoter(seed, true);
      expect(r.violation).toBeNull();
      expect(r.before).not.toBeNull();
      expect(r.after).toEqual(r.before);
      for (const n of r.votes) expect(n).toBeLessThanOrEqual(3);
    }
  });
});
