import { describe, expect, it } from 'vitest';
import type { FaultPlan } from '../../core/index.ts';
import { buildQuorum, type Quorum } from './harness.ts';

/**
 * Check-quorum (KAFKA-15489) runs on the leader's own monotonic clock: LeaderState resigns once
 * 1.5 × controller.quorum.fetch.timeout.ms (3,000 ms by default) pass on that clock without a
 * majority fetching. A slow clock stretches that in real time, and a paused leader acts only when
 * it resumes. The invariant must follow the leader's clock and pauses: no violation for a leader
 * that resigns as its own timer says, and still one when it never resigns.
 */

const INVARIANT = 'raft.leader-resigns-without-majority';

interface Case {
  name: string;
  /** Faults applied at 3,000 ms to the leader of that moment. */
  plan: (leader: string) => FaultPlan;
  /** Real time (ms) by which the leader, going by its own clock, has not yet resigned … */
  stillLeadsAtMs: number;
  /** … and by which it has. */
  resignedByMs: number;
}

const CASES: Case[] = [
  {
    // Cut off at ~3,000 ms with its clock at half speed: its 3,000 ms take 6,000 ms of real time.
    name: 'a leader whose clock runs at rate 0.5 while it is cut off from the majority',
    plan: (leader) => ({
      steps: [
        { atMs: 3000, action: { type: 'partition', shape: { type: 'isolate', node: leader } } },
        { atMs: 3000, action: { type: 'clock-rate', node: leader, rate: 0.5 } },
      ],
    }),
    stillLeadsAtMs: 8500,
    resignedByMs: 9200,
  },
  {
    // Paused (and cut off) across its check-quorum deadline of ~6,000 ms: the timer fires on resume,
    // after the long-poll timers that came due earlier answer their fetches.
    name: 'a leader paused across its check-quorum deadline',
    plan: (leader) => ({
      steps: [
        { atMs: 3000, action: { type: 'partition', shape: { type: 'isolate', node: leader } } },
        { atMs: 3000, action: { type: 'pause', node: leader } },
        { atMs: 8000, action: { type: 'resume', node: leader } },
      ],
    }),
    stillLeadsAtMs: 7999,
    resignedByMs: 8001,
  },
];

function startQuorum(seed: number, noCheckQuorum: boolean): { q: Quorum; leader: string } {
  const q = buildQuorum({ voters: 3, seed, bugs: { noCheckQuorum } });
  q.run(2900);
  const leader = q.leader();
  expect(leader).not.toBeNull();
  return { q, leader: leader!.node.name };
}

describe('check-quorum on the leader\'s own clock (KAFKA-15489)', () => {
  for (const c of CASES) {
    it(`${c.name}: resigns when its own timer says, with no violation`, () => {
      for (let seed = 1; seed <= 3; seed++) {
        const { q, leader } = startQuorum(seed, false);
        const old = q.clients.get(q.voters.find((v) => v.name === leader)!.id)!;
        q.sim.installFaults(c.plan(leader));
        q.run(c.stillLeadsAtMs);
        expect(q.sim.props.violation, `seed ${seed}`).toBeNull();
        // The majority elected someone else long ago; the old leader has not noticed yet.
        expect(old.quorum.isLeader, `seed ${seed}: ${leader} still leads`).toBe(true);
        q.run(c.resignedByMs);
        expect(q.sim.props.violation, `seed ${seed}`).toBeNull();
        expect(old.quorum.isLeader, `seed ${seed}: ${leader} resigned`).toBe(false);
        expect(old.stateName).toBe('Resigned');
      }
    });

    it(`${c.name}: with KAFKA-15489 the leader never resigns and the invariant fires`, () => {
      const { q, leader } = startQuorum(1, true);
      q.sim.installFaults(c.plan(leader));
      q.run(c.resignedByMs + 1000);
      expect(q.sim.props.violation?.invariant).toBe(INVARIANT);
      expect(q.sim.props.violation!.detail).toContain(leader);
      // Not before the leader's own timer would have fired.
      expect(q.sim.props.violation!.atMs).toBeGreaterThan(c.stillLeadsAtMs);
    });
  }
});

describe('check-quorum counts FetchSnapshot (KafkaRaftClient.handleFetchSnapshotRequest)', () => {
  it('a leader whose only follower is catching up from a snapshot keeps leading, with no violation', () => {
    for (let seed = 1; seed <= 3; seed++) {
      // Snapshots every 20 records and the log prefix deleted behind them; 100-byte chunks over a
      // 100 ms link make the transfer take several seconds, longer than check-quorum.
      const q = buildQuorum({ voters: 3, seed, snapshotEvery: 20, config: { snapshotChunkBytes: 100 } });
      q.run(2900);
      const leader = q.leader()!;
      const [b, c] = q.voters.filter((v) => v.id !== leader.id);
      q.sim.installFaults({
        steps: [
          { atMs: 3000, action: { type: 'crash', node: b!.name } },
          { atMs: 8000, action: { type: 'link-fault', from: b!.name, to: leader.node.name, delayMs: 100 } },
          { atMs: 8000, action: { type: 'link-fault', from: leader.node.name, to: b!.name, delayMs: 100 } },
          { atMs: 8000, action: { type: 'restart', node: b!.name } },
          { atMs: 8000, action: { type: 'crash', node: c!.name } },
        ],
      });
      q.run(14_000);
      expect(q.sim.props.violation, `seed ${seed}`).toBeNull();
      // b caught up through FetchSnapshot alone for a while, and the leader never had to resign.
      expect(leader.quorum.isLeader, `seed ${seed}`).toBe(true);
      expect(q.clients.get(b!.id)!.log.startOffset, `seed ${seed}: ${b!.name} installed a snapshot`).toBeGreaterThan(0);
    }
  });
});
