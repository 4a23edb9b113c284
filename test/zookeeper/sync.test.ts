import { describe, expect, it } from 'vitest';
import type { LinkFault } from '../../core/network.ts';
import type { QuorumPeer } from '../../sim/zookeeper/peer.ts';
import { client, ensemble } from './harness.ts';

const peers = (zk: ReturnType<typeof ensemble>['zk']): QuorumPeer[] => zk.nodes.map((n) => n.behavior as QuorumPeer);
const create = (path: string) => ({ type: 'create' as const, path, data: 1, dataBytes: 1, ephemeral: false, sequential: false });

/** Regressions of learner sync after a leader change (LearnerHandler.syncFollower / Learner.syncWithLeader). */
describe('ZAB learner sync', () => {
  it('a txn both followers logged but whose ACKs never reached the crashed leader is kept by the new leader and by the DIFF-synced follower', () => {
    const { sim, zk } = ensemble(11);
    const cs = [0, 1, 2, 3, 4, 5].map((i) => client(sim, zk, `c${i}`, 30000));
    sim.run({ untilUs: 14_000_000 });
    const leader = zk.leader()!;
    const lid = zk.nodes.indexOf(leader);
    const writer = cs.find((c) => c.zk().connected && c.zk().serverIndex === lid)!;
    expect(writer).toBeDefined();
    for (let i = 0; i < 3; i++) writer.zk().write([create(`/before${i}`)], () => undefined);
    sim.run({ untilUs: 15_000_000 });
    // The followers log and fsync the next proposal, but their ACKs stay on the wire to the leader.
    const followers = zk.nodes.filter((n) => n !== leader);
    sim.net.partition({ type: 'one-way', from: followers.map((n) => n.id), to: [leader.id] });
    const codes: string[] = [];
    writer.zk().write([create('/logged')], (r) => codes.push(r.code));
    sim.run({ untilUs: 15_500_000 });
    for (const f of followers) expect((f.behavior as QuorumPeer).lastZxid).toBeGreaterThan((f.behavior as QuorumPeer).tree.lastProcessedZxid);
    sim.crash(leader);
    sim.net.heal();
    sim.run({ untilUs: 46_000_000 });
    const live = peers(zk).filter((_, i) => i !== lid);
    expect(live.filter((p) => p.state === 'LEADING')).toHaveLength(1);
    expect(live.every((p) => p.serving)).toBe(true);
    // The new leader's history holds the txn (it was logged by a quorum); the other follower's
    // DIFF must not drop it: both commit it at the same position.
    for (const p of live) expect(p.tree.get('/logged')).toBeDefined();
    expect(zk.audit.history).toHaveLength(Math.max(...live.map((p) => p.committedCount)));
    expect(zk.audit.prefixViolation).toBeNull();
  });

  it('a follower that rejoins takes no proposal or commit before its NEWLEADER (the leader still streams to its old handler)', () => {
    const { sim, zk } = ensemble(12);
    const cs = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => client(sim, zk, `c${i}`, 18000));
    sim.run({ untilUs: 20_000_000 });
    const leader = zk.leader()!;
    const f = zk.nodes.find((n) => n !== leader)!;
    const fid = zk.nodes.indexOf(f);
    const writers = cs.filter((c) => c.zk().connected && c.zk().serverIndex !== fid);
    expect(writers.length).toBeGreaterThan(0);
    // The link between the leader and f is cut: f gives up on the leader and looks for one, while
    // the leader, with the other follower, keeps committing and broadcasting to f's old handler.
    sim.net.partition({ type: 'symmetric', a: [leader.id], b: [f.id] });
    let n = 0;
    const tick = (): void => {
      if (sim.nowUs > 50_000_000) return;
      for (const w of writers) if (w.zk().inFlight < 5) w.zk().write([create(`/w${n++}`)], () => undefined);
      sim.after(2_000, tick);
    };
    sim.after(0, tick);
    sim.run({ untilUs: 45_000_000 });
    const fp = f.behavior as QuorumPeer;
    expect(fp.serving).toBe(false);
    // After the heal the leader answers f's votes in between proposals: f follows it and receives
    // fresh proposals and commits before the leader has handled its FOLLOWERINFO.
    sim.net.heal();
    sim.run({ untilUs: 80_000_000 });
    expect(fp.state).toBe('FOLLOWING');
    expect(fp.serving).toBe(true);
    const lt = zk.leaderTree()!;
    expect(fp.tree.lastProcessedZxid).toBe(lt.lastProcessedZxid);
    expect([...fp.tree.nodes.keys()].sort()).toEqual([...lt.nodes.keys()].sort());
    expect(fp.committedCount).toBe((leader.behavior as QuorumPeer).committedCount);
    expect(zk.audit.prefixViolation).toBeNull();
  });

  // Link chaos beyond TCP on the leader → follower stream, for exactly one proposal: without the
  // follower's zxid check (Follower.processPacket: lastQueued + 1) it logged past a lost proposal,
  // logged a duplicate twice or a later proposal before an earlier one, and committed that.
  const chaos: [string, LinkFault][] = [
    ['lost', { drop: 1 }],
    ['duplicated', { duplicate: 1 }],
    ['overtaken by the next one', { reorder: 1, reorderWindowUs: 1, delayUs: 50_000 }],
  ];
  for (const [what, fault] of chaos) {
    it(`a proposal ${what} on the way to a follower: it commits the leader's history, never one with a hole or a txn twice`, () => {
      const { sim, zk } = ensemble(13);
      const cs = [0, 1, 2, 3, 4, 5].map((i) => client(sim, zk, `c${i}`, 30000));
      sim.run({ untilUs: 20_000_000 });
      const leader = zk.leader()!;
      const lp = leader.behavior as QuorumPeer;
      const f = zk.nodes.find((n) => n !== leader)!;
      const fp = f.behavior as QuorumPeer;
      const writer = cs.find((c) => c.zk().connected && c.zk().serverIndex === zk.nodes.indexOf(leader))!;
      expect(writer).toBeDefined();
      const before = lp.lastZxid;
      sim.net.setLinkFault(leader.id, f.id, fault);
      writer.zk().write([create('/a')], () => undefined);
      // Only the proposal of /a meets the fault: clear it as soon as the leader has proposed.
      // (sim.nowUs stays at the last event run, so step on our own clock.)
      let t = 20_000_000;
      while (lp.lastZxid === before && t < 20_100_000) sim.run({ untilUs: (t += 10) });
      expect(lp.lastZxid).toBeGreaterThan(before);
      sim.run({ untilUs: (t += 10) });
      sim.net.clearLinkFaults();
      sim.run({ untilUs: (t += 5_000) });
      writer.zk().write([create('/b')], () => undefined);
      sim.run({ untilUs: 60_000_000 });
      expect(zk.audit.prefixViolation).toBeNull();
      expect(fp.state).toBe('FOLLOWING');
      expect(fp.serving).toBe(true);
      expect(fp.committedCount).toBe(lp.committedCount);
      expect(fp.tree.lastProcessedZxid).toBe(lp.tree.lastProcessedZxid);
      for (const path of ['/a', '/b']) expect(fp.tree.get(path)).toBeDefined();
    });
  }
});
