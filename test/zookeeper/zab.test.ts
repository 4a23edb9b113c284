import { describe, expect, it } from 'vitest';
import type { QuorumPeer } from '../../sim/zookeeper/peer.ts';
import { client, ensemble } from './harness.ts';

const peers = (zk: ReturnType<typeof ensemble>['zk']): QuorumPeer[] => zk.nodes.map((n) => n.behavior as QuorumPeer);

describe('ZAB', () => {
  it('cold start elects the server with the highest sid among equal zxids, once per epoch', () => {
    const { sim, zk } = ensemble(1);
    sim.run({ untilUs: 5_000_000 });
    expect(zk.leader()?.name).toBe('zk-2');
    const ps = peers(zk);
    expect(ps.filter((p) => p.state === 'LEADING')).toHaveLength(1);
    expect(ps.filter((p) => p.state === 'FOLLOWING' && p.serving)).toHaveLength(2);
    expect(zk.audit.leadershipViolation).toBeNull();
  });

  it('commits a write on a quorum and every server applies the same prefix', () => {
    const { sim, zk } = ensemble(2);
    const c = client(sim, zk, 'c0');
    const results: string[] = [];
    sim.at(9_000_000, () => {
      for (let i = 0; i < 5; i++) c.zk().write([{ type: 'create', path: `/n${i}`, data: i, dataBytes: 4, ephemeral: false, sequential: false }], (r) => results.push(r.code));
    });
    sim.run({ untilUs: 12_000_000 });
    expect(results).toEqual(['OK', 'OK', 'OK', 'OK', 'OK']);
    for (const p of peers(zk)) expect(p.tree.get('/n4')?.data).toBe(4);
    expect(zk.audit.prefixViolation).toBeNull();
    expect(zk.audit.history.length).toBeGreaterThanOrEqual(6);
  });

  it('a leader without a synced quorum steps down within syncLimit, and a new leader is elected by the majority', () => {
    const { sim, zk } = ensemble(3);
    sim.run({ untilUs: 3_000_000 });
    const old = zk.leader()!;
    expect(old.name).toBe('zk-2');
    sim.net.partition({ type: 'isolate', node: old.id });
    sim.run({ untilUs: 20_000_000 });
    const oldPeer = old.behavior as QuorumPeer;
    expect(oldPeer.state).not.toBe('LEADING');
    const now = zk.leader();
    expect(now).not.toBeNull();
    expect(now!.name).not.toBe('zk-2');
    expect((now!.behavior as QuorumPeer).currentEpoch).toBeGreaterThan(1);
    // The minority cannot commit: a write sent through it is not answered while isolated.
    expect(zk.audit.leadershipViolation).toBeNull();
    expect(zk.audit.prefixViolation).toBeNull();
  });

  it('without a quorum nothing commits; after healing the write commits', () => {
    const { sim, zk } = ensemble(4);
    const c = client(sim, zk, 'c0');
    sim.run({ untilUs: 3_000_000 });
    const codes: string[] = [];
    const srv = c.zk().serverIndex;
    const others = zk.nodes.filter((_, i) => i !== srv).map((n) => n.id);
    sim.net.partition({ type: 'symmetric', a: [zk.nodes[srv]!.id, c.node.id], b: others });
    c.zk().write([{ type: 'create', path: '/x', data: 1, dataBytes: 1, ephemeral: false, sequential: false }], (r) => codes.push(r.code));
    sim.run({ untilUs: 8_000_000 });
    expect(codes).toEqual([]);
    sim.net.heal();
    sim.run({ untilUs: 60_000_000 });
    expect(codes).toEqual(['OK']);
    expect(zk.audit.prefixViolation).toBeNull();
  });
});
