import { describe, expect, it } from 'vitest';
import { client, ensemble } from './harness.ts';
import type { QuorumPeer } from '../../sim/zookeeper/peer.ts';

/**
 * The isolated leader and a client connected to it on one side, the majority and another client on
 * the other; each client writes. Returns the ensemble's audit.
 */
function splitWrites(seed: number, bugs: string[]) {
  const { sim, zk } = ensemble(seed, { bugs });
  const cs = [0, 1, 2, 3, 4, 5].map((i) => client(sim, zk, `c${i}`));
  // Clients connect once servers serve (a refused client tries the next server after its connect timeout).
  sim.run({ untilUs: 20_000_000 });
  const leader = zk.leader()!;
  const sid = zk.nodes.indexOf(leader);
  const near = cs.find((c) => c.zk().serverIndex === sid && c.zk().connected);
  const far = cs.find((c) => c.zk().serverIndex !== sid && c.zk().connected);
  if (near === undefined || far === undefined) return null;
  const others = zk.nodes.filter((n) => n !== leader).map((n) => n.id);
  sim.net.partition({ type: 'symmetric', a: [leader.id, near.node.id], b: [...others, far.node.id] });
  const codes: string[] = [];
  near.zk().write([{ type: 'create', path: '/minority', data: 1, dataBytes: 1, ephemeral: false, sequential: false }], (r) => codes.push(`near ${r.code}`));
  sim.run({ untilUs: 45_000_000 });
  far.zk().write([{ type: 'create', path: '/majority', data: 2, dataBytes: 1, ephemeral: false, sequential: false }], (r) => codes.push(`far ${r.code}`));
  sim.run({ untilUs: 75_000_000 });
  return { audit: zk.audit, codes };
}

describe('ZAB what-ifs', () => {
  it('zab.commit-without-quorum: an isolated leader commits alone, the majority commits another txn at that position', () => {
    let tried = 0;
    for (let seed = 1; seed <= 10; seed++) {
      const ok = splitWrites(seed, []);
      const bug = splitWrites(seed, ['zab.commit-without-quorum']);
      if (ok === null || bug === null) continue;
      tried++;
      expect(ok.audit.prefixViolation).toBeNull();
      expect(ok.codes).not.toContain('near OK');
      expect(bug.codes).toContain('near OK');
      expect(bug.audit.prefixViolation).not.toBeNull();
    }
    expect(tried).toBeGreaterThan(0);
  });
});

/** The leader is cut off; the majority elects a new one. Returns the audit and the epochs involved. */
function isolateLeader(seed: number, bugs: string[]) {
  const { sim, zk } = ensemble(seed, { bugs });
  sim.run({ untilUs: 5_000_000 });
  const old = zk.leader()!;
  const oldEpoch = (old.behavior as QuorumPeer).currentEpoch;
  sim.net.partition({ type: 'isolate', node: old.id });
  sim.run({ untilUs: 40_000_000 });
  const now = zk.leader();
  return { sim, zk, old, oldEpoch, now, newEpoch: now === null ? -1 : (now.behavior as QuorumPeer).currentEpoch };
}

describe('zab.no-epoch-bump', () => {
  it('a new leader that reuses the epoch of the leader it replaced breaks Leadership (zab.leadership)', () => {
    for (const seed of [1, 2, 3]) {
      const ok = isolateLeader(seed, []);
      expect(ok.now).not.toBeNull();
      expect(ok.now).not.toBe(ok.old);
      expect(ok.newEpoch).toBeGreaterThan(ok.oldEpoch);
      expect(ok.zk.audit.leadershipViolation).toBeNull();
      expect(ok.sim.props.violation).toBeNull();

      const bug = isolateLeader(seed, ['zab.no-epoch-bump']);
      expect(bug.now).not.toBeNull();
      expect(bug.now).not.toBe(bug.old);
      expect(bug.newEpoch).toBe(bug.oldEpoch);
      expect(bug.zk.audit.leadershipViolation).toContain(`epoch ${bug.oldEpoch}`);
      expect(bug.sim.props.violation?.invariant).toBe('zab.leadership');
    }
  });
});
