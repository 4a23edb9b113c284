import { describe, expect, it } from 'vitest';
import { kraft } from './harness.ts';

describe('KRaft ISR expansion after a fenced broker returns (AlterPartition)', () => {
  it('the leaders propose the returning follower back into their ISRs once it fetches; the controller commits it', () => {
    for (let seed = 1; seed <= 3; seed++) {
      const c = kraft(seed, { partitions: 6000 });
      const t = c.h.tracker;
      const b = 2;
      const outOfIsr = (): number => {
        let n = 0;
        for (let p = 0; p < t.truth.size; p++) if (t.truth.slotOf(p, b) >= 0 && !t.truth.isrHas(p, b)) n++;
        return n;
      };
      const requests = (): number => {
        let n = 0;
        for (let x = 0; x < c.h.brokers.length; x++) n += c.h.brokerServer(x)?.replicas?.alterPartitionRequests ?? 0;
        return n;
      };
      c.run(20_000, { steps: [{ atMs: 5000, action: { type: 'crash', node: `broker-${b}` } }, { atMs: 20_000, action: { type: 'restart', node: `broker-${b}` } }, { atMs: 59_000, action: { type: 'heal' } }] });
      // Fenced and shrunk out of every ISR it shared (it stays only where it was the last member).
      expect(t.isServing(b)).toBe(false);
      const shrunk = outOfIsr();
      expect(shrunk).toBeGreaterThan(0);
      expect(requests()).toBe(0);
      // Back, registered and unfenced, but no fetch round has reached a leader yet: ISRs unchanged.
      let unfencedAtMs = -1;
      for (let ms = 20_000; ms < 40_000 && unfencedAtMs < 0; ms += 10) {
        c.run(ms);
        if (t.isServing(b)) unfencedAtMs = ms;
      }
      expect(unfencedAtMs).toBeGreaterThan(0);
      expect(outOfIsr()).toBe(shrunk);
      c.run(60_000);
      expect(c.sim.props.violation).toBeNull();
      expect(outOfIsr()).toBe(0);
      expect(requests()).toBeGreaterThan(0);
      expect(t.totalDivergence).toBe(0);
      // Every expanded ISR was a committed change: partition epochs moved past the shrink.
      for (let x = 0; x < c.h.brokers.length; x++) if (x !== b) expect(t.brokerDivergence(x)).toBe(0);
    }
  });

  it('the controller rejects an AlterPartition that names a fenced replica (INELIGIBLE_REPLICA, KIP-841)', () => {
    const c = kraft(1, { partitions: 6000 });
    const t = c.h.tracker;
    const outOfIsr = (): number => {
      let n = 0;
      for (let p = 0; p < t.truth.size; p++) if (t.truth.slotOf(p, 2) >= 0 && !t.truth.isrHas(p, 2)) n++;
      return n;
    };
    c.run(20_000, { steps: [{ atMs: 5000, action: { type: 'crash', node: 'broker-2' } }, { atMs: 59_000, action: { type: 'heal' } }] });
    expect(t.isServing(2)).toBe(false);
    const shrunk = outOfIsr();
    expect(shrunk).toBeGreaterThan(0);
    // As if the fenced broker's fetch reached leader 0: it proposes it back into the ISRs it leads.
    const leader = c.h.brokerServer(0)!.replicas!;
    leader.handleReplicaFetch(2, c.h.brokers[0]!.executor('request-handler'));
    c.run(30_000);
    expect(c.sim.props.violation).toBeNull();
    expect(leader.alterPartitionRequests).toBeGreaterThan(0);
    expect(leader.partitionsExpanded).toBe(0);
    expect(outOfIsr()).toBe(shrunk);
  });
});
