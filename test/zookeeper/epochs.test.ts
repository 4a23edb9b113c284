import { describe, expect, it } from 'vitest';
import type { QuorumPeer } from '../../sim/zookeeper/peer.ts';
import { client, ensemble } from './harness.ts';

const create = (path: string) => ({ type: 'create' as const, path, data: 1, dataBytes: 1, ephemeral: false, sequential: false });

/**
 * A leader paused past syncLimit (a GC pause, a stopped VM) still believes it leads epoch 1 when it
 * resumes, while the others have committed in epoch 2; it expires every session at once and
 * proposes those closes. A server of epoch 2 that restarts in that window must not join it.
 */
function stalePausedLeader(seed: number) {
  const { sim, zk } = ensemble(seed);
  const cs = [0, 1, 2, 3, 4, 5].map((i) => client(sim, zk, `c${i}`, 12000));
  sim.run({ untilUs: 10_000_000 });
  const stale = zk.leader()!;
  expect(stale.name).toBe('zk-2');
  sim.pause(stale);
  // The others elect epoch 2 (zk-1: highest sid among equal zxids) and commit writes in it.
  sim.run({ untilUs: 30_000_000 });
  const fresh = zk.leader()!;
  expect(fresh.name).toBe('zk-1');
  const fp = fresh.behavior as QuorumPeer;
  expect(fp.currentEpoch).toBe(2);
  let n = 0;
  for (const c of cs) if (c.zk().connected) c.zk().write([create(`/e2-${n++}`)], () => undefined);
  sim.run({ untilUs: 31_000_000 });
  expect(zk.audit.history.length).toBeGreaterThan(0);
  const epoch2Commits = zk.audit.history.filter((z) => Math.floor(z / 2 ** 32) === 2).length;
  expect(epoch2Commits).toBeGreaterThan(0);
  sim.resume(stale);
  return { sim, zk, stale, fresh };
}

describe('ZAB epochs', () => {
  it('a server of epoch 2 that restarts while the paused leader of epoch 1 still leads neither follows it nor drops what epoch 2 committed', () => {
    const { sim, zk, stale, fresh } = stalePausedLeader(21);
    sim.run({ untilUs: 31_000_100 });
    expect((stale.behavior as QuorumPeer).state).toBe('LEADING');
    sim.crash(fresh);
    sim.run({ untilUs: 31_050_000 });
    sim.restart(fresh);
    let minEpoch = Infinity;
    for (let t = 31_100_000; t <= 70_000_000; t += 100_000) {
      sim.run({ untilUs: t });
      const p = fresh.behavior as QuorumPeer;
      if (fresh.up) minEpoch = Math.min(minEpoch, p.currentEpoch);
    }
    expect(zk.audit.prefixViolation).toBeNull();
    // Its epoch files never go back to the deposed leader's epoch.
    expect(minEpoch).toBeGreaterThanOrEqual(2);
    const leader = zk.leader();
    expect(leader).not.toBeNull();
    expect((leader!.behavior as QuorumPeer).currentEpoch).toBeGreaterThan(2);
    for (const n of zk.nodes) expect((n.behavior as QuorumPeer).serving).toBe(true);
  });

  it("a learner whose accepted epoch is newer than the leader's refuses its NEWLEADER before touching its log (Learner.registerWithLeader)", () => {
    const { sim, zk, stale, fresh } = stalePausedLeader(21);
    sim.run({ untilUs: 31_000_100 });
    const sp = stale.behavior as QuorumPeer;
    expect(sp.state).toBe('LEADING');
    const fp = fresh.behavior as QuorumPeer;
    const lastZxid = fp.lastZxid;
    const tree = fp.tree.lastProcessedZxid;
    // Whatever made it pick the deposed leader (an election that counted its LEADING vote), the
    // learner connects and the deposed leader answers with a sync for epoch 1.
    (fp as unknown as { follow(sid: number): void }).follow(zk.nodes.indexOf(stale));
    const notes: number[] = [];
    for (let t = 31_000_200; t <= 31_100_000; t += 100) {
      sim.run({ untilUs: t });
      if (fp.state !== 'FOLLOWING' || fp.leaderSid !== zk.nodes.indexOf(stale)) {
        notes.push(t);
        break;
      }
    }
    expect(notes).toHaveLength(1);
    expect(fp.currentEpoch).toBe(2);
    expect(fp.lastZxid).toBe(lastZxid);
    expect(fp.tree.lastProcessedZxid).toBe(tree);
    sim.run({ untilUs: 70_000_000 });
    expect(zk.audit.prefixViolation).toBeNull();
  });

  it('a txn logged by every server but committed by none, replayed at their restarts, is committed by the new epoch at its position', () => {
    const { sim, zk } = ensemble(11);
    const cs = [0, 1, 2, 3, 4, 5].map((i) => client(sim, zk, `c${i}`, 30000));
    sim.run({ untilUs: 14_000_000 });
    const leader = zk.leader()!;
    expect(leader.name).toBe('zk-2');
    const writer = cs.find((c) => c.zk().connected && c.zk().serverIndex === 2)!;
    expect(writer).toBeDefined();
    writer.zk().write([create('/before')], () => undefined);
    sim.run({ untilUs: 15_000_000 });
    const committed = zk.audit.history.length;
    // The followers log and fsync the next proposal; their ACKs never reach the leader.
    const followers = zk.nodes.filter((n) => n !== leader);
    sim.net.partition({ type: 'one-way', from: followers.map((n) => n.id), to: [leader.id] });
    writer.zk().write([create('/logged')], () => undefined);
    sim.run({ untilUs: 15_500_000 });
    const logged = (followers[1]!.behavior as QuorumPeer).lastZxid;
    for (const f of followers) expect((f.behavior as QuorumPeer).tree.get('/logged')).toBeUndefined();
    expect(zk.audit.history).toHaveLength(committed);
    // Everyone goes down; the followers come back and replay their logs, /logged included.
    sim.crash(leader);
    for (const f of followers) sim.crash(f);
    sim.net.heal();
    sim.run({ untilUs: 16_000_000 });
    for (const f of followers) sim.restart(f);
    sim.run({ untilUs: 17_000_000 });
    for (const f of followers) expect((f.behavior as QuorumPeer).tree.get('/logged')).toBeDefined();
    sim.run({ untilUs: 40_000_000 });
    const now = zk.leader()!;
    expect(now.name).toBe('zk-1');
    // The new epoch commits /logged (Zab: the new leader's history) and then its own txns.
    const c = cs.find((x) => x.zk().connected)!;
    c.zk().write([create('/after')], () => undefined);
    sim.run({ untilUs: 45_000_000 });
    expect(zk.audit.prefixViolation).toBeNull();
    expect(zk.audit.history[committed]).toBe(logged);
    const live = followers.map((f) => f.behavior as QuorumPeer);
    for (const p of live) expect(p.tree.get('/after')).toBeDefined();
    expect(zk.audit.history).toHaveLength(live[1]!.committedCount);
  });
});
