import { describe, expect, it } from 'vitest';
import { buildQuorum } from './harness.ts';

describe('KIP-595 election', () => {
  it('elects one leader from a cold start, and every voter and observer follows it', () => {
    for (let seed = 1; seed <= 5; seed++) {
      const q = buildQuorum({ voters: 3, observers: 2, seed });
      const out = q.run(6000);
      expect(q.sim.props.violation).toBeNull();
      expect(out.reason).toBe('time-limit');
      const leader = q.leader();
      expect(leader).not.toBeNull();
      for (const [id, c] of q.clients) {
        expect(c.epoch, `node ${id}`).toBe(leader!.epoch);
        expect(c.leaderId, `node ${id}`).toBe(leader!.id);
        // Everyone applied nearly what the leader applied (50 ms appends, a round trip behind).
        expect(q.applied.get(id) ?? 0).toBeGreaterThan((q.applied.get(leader!.id) ?? 0) - 5);
      }
    }
  });
});

describe('KIP-595 failover', () => {
  it('elects a new leader after the leader crashes, and the old one rejoins as a follower', () => {
    for (let seed = 1; seed <= 5; seed++) {
      const q = buildQuorum({ voters: 3, seed });
      q.run(3000);
      const first = q.leader()!;
      const hwBefore = first.hw;
      q.run(12_000, { steps: [{ atMs: 3000, action: { type: 'crash', node: '@raftLeader' } }, { atMs: 8000, action: { type: 'restart', node: first.node.name } }] });
      expect(q.sim.props.violation).toBeNull();
      const next = q.leader()!;
      expect(next.epoch).toBeGreaterThan(first.epoch);
      expect(next.hw).toBeGreaterThan(hwBefore);
      const rejoined = q.clients.get(first.id)!;
      expect(rejoined.leaderId).toBe(next.id);
      expect(rejoined.hw).toBeGreaterThan(hwBefore);
    }
  });

  it('keeps making progress through back-to-back leader failures', () => {
    for (let seed = 1; seed <= 4; seed++) {
      const q = buildQuorum({ voters: 3, seed });
      q.run(3000);
      const e0 = q.leader()!.epoch;
      q.run(16_000, {
        steps: [
          { atMs: 3000, action: { type: 'partition', shape: { type: 'isolate', node: '@raftLeader' } } },
          { atMs: 8000, action: { type: 'heal' } },
          { atMs: 8000, action: { type: 'partition', shape: { type: 'isolate', node: '@raftLeader' } } },
          { atMs: 13_000, action: { type: 'heal' } },
        ],
      });
      expect(q.sim.props.violation).toBeNull();
      const leader = q.leader()!;
      expect(leader.epoch).toBeGreaterThanOrEqual(e0 + 2);
      const counts = q.voters.map((v) => q.applied.get(v.id) ?? 0);
      expect(Math.max(...counts) - Math.min(...counts)).toBeLessThan(5);
    }
  });

  it('5 voters split {0,1} | {2,3,4}: the majority commits, the minority does not, all catch up after heal', () => {
    for (let seed = 1; seed <= 4; seed++) {
      const q = buildQuorum({ voters: 5, seed });
      q.run(3000);
      const split = { type: 'groups' as const, groups: [['controller-0', 'controller-1'], ['controller-2', 'controller-3', 'controller-4']] };
      q.run(3000, { steps: [{ atMs: 3000, action: { type: 'partition', shape: split } }, { atMs: 10_000, action: { type: 'heal' } }] });
      q.run(9000);
      const hwAt = (i: number): number => q.clients.get(q.voters[i]!.id)!.hw;
      const minorityHw = Math.max(hwAt(0), hwAt(1));
      const majorityHw = Math.min(hwAt(2), hwAt(3), hwAt(4));
      expect(majorityHw).toBeGreaterThan(minorityHw + 20);
      const frozen = minorityHw;
      q.run(9900);
      expect(Math.max(hwAt(0), hwAt(1))).toBe(frozen);
      q.run(16_000);
      expect(q.sim.props.violation).toBeNull();
      const top = q.leader()!.hw;
      for (let i = 0; i < 5; i++) expect(hwAt(i)).toBeGreaterThan(top - 10);
    }
  });
});
