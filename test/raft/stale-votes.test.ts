import { describe, expect, it } from 'vitest';
import type { SimNode } from '../../core/index.ts';
import type { RaftMessage } from '../../sim/raft/types.ts';
import { buildQuorum } from './harness.ts';

const CUT_MS = 5_000;
const HEAL_MS = 35_000;
const WINDOW_MS = 10_000;

/**
 * controller-2, a follower of the first leader, is cut off from the other two voters for 30 s, then
 * healed. Returns the leader before and after, the cut-off voter's epoch at heal, and the epochs of
 * its Vote requests that reach each other voter in the 10 s after the heal.
 */
function cutOffVoter(seed: number, preVote: boolean) {
  const q = buildQuorum({ voters: 3, seed, preVote });
  const victim = q.voters[2]!;
  q.run(HEAL_MS - 1, { steps: [{ atMs: CUT_MS, action: { type: 'partition', shape: { type: 'symmetric', a: [victim.name], b: [q.voters[0]!.name, q.voters[1]!.name] } } }] });
  const l = q.leader();
  const before = l === null ? null : { id: l.node.id, epoch: l.epoch };
  const victimEpoch = q.clients.get(victim.id)!.epoch;
  // What the two healthy voters receive from it from now on.
  const votes: number[][] = [[], []];
  for (const v of [0, 1]) {
    const c = q.clients.get(q.voters[v]!.id)!;
    const handle = c.handle.bind(c);
    c.handle = (from: SimNode, msg: RaftMessage<number, number>) => {
      if (from === victim && msg.type === 'Vote' && q.sim.nowUs < (HEAL_MS + WINDOW_MS) * 1000) votes[v]!.push(msg.candidateEpoch);
      handle(from, msg);
    };
  }
  q.sim.at(HEAL_MS * 1000, () => q.sim.faults.apply({ type: 'heal-all' }));
  q.sim.run({ untilUs: (HEAL_MS + WINDOW_MS) * 1000 });
  const a = q.leader();
  return { before, after: a === null ? null : { id: a.node.id, epoch: a.epoch }, victimEpoch, votes, violation: q.sim.props.violation };
}

describe('a voter cut off from the quorum for 30 s, then healed', () => {
  it('without pre-vote: its Vote requests of a dozen stale epochs do not arrive in a burst at heal', () => {
    for (const seed of [1, 2, 3]) {
      const r = cutOffVoter(seed, false);
      expect(r.violation).toBeNull();
      expect(r.before).not.toBeNull();
      // It ran election after election while cut off …
      expect(r.victimEpoch).toBeGreaterThan(r.before!.epoch + 8);
      // … but the raft client closed each connection on its request timeout, and no new one could be
      // set up across the partition: only Votes it sent within the last request timeout
      // (controller.quorum.request.timeout.ms, 2 s: its current epoch and at most the one before)
      // were still waiting for a connection when the partition healed. (On a network without
      // connection close every one of them, a dozen epochs, arrived at heal.)
      for (const epochs of r.votes) {
        const stale = epochs.filter((e) => e <= r.victimEpoch);
        expect(stale.length).toBeLessThanOrEqual(2);
        for (const e of stale) expect(e).toBeGreaterThanOrEqual(r.victimEpoch - 1);
      }
      // Without pre-vote its current epoch still ends the healthy leader's (Kafka 3.9: a Vote of a
      // higher epoch moves every voter to it, KafkaRaftClient.handleVoteRequest), and its log is
      // behind, so the others elect one of themselves in a later epoch.
      expect(r.after).not.toBeNull();
      expect(r.after!.epoch).toBeGreaterThan(r.victimEpoch);
      expect(r.after!.id).not.toBe(2);
    }
  });

  it('with pre-vote: the healthy leader keeps its epoch, and no burst of pre-votes arrives', () => {
    for (const seed of [1, 2, 3]) {
      const r = cutOffVoter(seed, true);
      expect(r.violation).toBeNull();
      expect(r.before).not.toBeNull();
      expect(r.after).toEqual(r.before);
      // Pre-votes carry the unchanged epoch; whatever arrives was sent after the heal.
      for (const epochs of r.votes) expect(epochs.length).toBeLessThanOrEqual(3);
    }
  });
});
