import { describe, expect, it } from 'vitest';
import { kraft } from './harness.ts';

type Cluster = ReturnType<typeof kraft>;

/** Partitions with broker b among their replicas but not in their ISR, in truth. */
function outOfIsr(c: Cluster, b: number): number {
  const t = c.h.tracker.truth;
  let n = 0;
  for (let p = 0; p < t.size; p++) if (t.slotOf(p, b) >= 0 && !t.isrHas(p, b)) n++;
  return n;
}

/** Runs until broker b, crashed at 5 s and restarted at 20 s, is unfenced (10 ms steps); returns when (ms), or -1. */
function runUntilUnfenced(c: Cluster, b: number): number {
  for (let ms = 20_000; ms < 40_000; ms += 10) {
    c.run(ms);
    if (c.h.tracker.isServing(b)) return ms;
  }
  return -1;
}

const bounce = (b: number) => [{ atMs: 5000, action: { type: 'crash' as const, node: `broker-${b}` } }, { atMs: 20_000, action: { type: 'restart' as const, node: `broker-${b}` } }];

describe('KRaft ISR expansion after a fenced broker returns (AlterPartition)', () => {
  it('the leaders propose the returning follower back into their ISRs once it fetches; the controller commits it', () => {
    for (let seed = 1; seed <= 3; seed++) {
      const c = kraft(seed, { partitions: 6000 });
      const t = c.h.tracker;
      const b = 2;
      const requests = (): number => {
        let n = 0;
        for (let x = 0; x < c.h.brokers.length; x++) n += c.h.brokerServer(x)?.replicas?.alterPartitionRequests ?? 0;
        return n;
      };
      c.run(20_000, { steps: [...bounce(b), { atMs: 59_000, action: { type: 'heal' } }] });
      // Fenced and shrunk out of every ISR it shared (it stays only where it was the last member).
      expect(t.isServing(b)).toBe(false);
      const shrunk = outOfIsr(c, b);
      expect(shrunk).toBeGreaterThan(0);
      expect(requests()).toBe(0);
      // Back, registered and unfenced, but no fetch round has reached a leader yet: ISRs unchanged.
      expect(runUntilUnfenced(c, b)).toBeGreaterThan(0);
      expect(outOfIsr(c, b)).toBe(shrunk);
      c.run(60_000);
      expect(c.sim.props.violation).toBeNull();
      expect(outOfIsr(c, b)).toBe(0);
      expect(requests()).toBeGreaterThan(0);
      expect(t.totalDivergence).toBe(0);
      // Every expanded ISR was a committed change: partition epochs moved past the shrink.
      for (let x = 0; x < c.h.brokers.length; x++) if (x !== b) expect(t.brokerDivergence(x)).toBe(0);
    }
  });

  it('the controller rejects an AlterPartition that names a fenced replica (INELIGIBLE_REPLICA, KIP-841)', () => {
    const c = kraft(1, { partitions: 6000 });
    const t = c.h.tracker;
    c.run(20_000, { steps: [{ atMs: 5000, action: { type: 'crash', node: 'broker-2' } }, { atMs: 59_000, action: { type: 'heal' } }] });
    expect(t.isServing(2)).toBe(false);
    const shrunk = outOfIsr(c, 2);
    expect(shrunk).toBeGreaterThan(0);
    // As if the fenced broker's fetch reached leader 0: it proposes it back into the ISRs it leads.
    const leader = c.h.brokerServer(0)!.replicas!;
    leader.handleReplicaFetch(2, c.h.brokers[0]!.executor('request-handler'));
    c.run(30_000);
    expect(c.sim.props.violation).toBeNull();
    expect(leader.alterPartitionRequests).toBeGreaterThan(0);
    expect(leader.partitionsExpanded).toBe(0);
    expect(outOfIsr(c, 2)).toBe(shrunk);
  });

  // Kafka's alter-partition channel (retryTimeoutMs = ∞) sends an unanswered request again after
  // controller.socket.timeout.ms; a lost one must not leave its partitions pending (and short of a
  // replica) for good. The settle time is raised so that the verdict does not stop the run first.
  it('an AlterPartition lost on its way to the controller is proposed again after controller.socket.timeout.ms', () => {
    const c = kraft(1, { partitions: 6000, 'settle.ms': 100_000_000 });
    const b = 2;
    c.run(20_000, { steps: bounce(b) });
    const unfencedMs = runUntilUnfenced(c, b);
    expect(unfencedMs).toBeGreaterThan(0);
    expect(outOfIsr(c, b)).toBeGreaterThan(0);
    // Every broker → controller message is lost for 800 ms, as the leaders send their AlterPartitions.
    const brokerIds = new Set(c.h.brokers.map((n) => n.id));
    const controllers = c.sim.nodes.filter((n) => !brokerIds.has(n.id));
    for (const ctl of controllers) for (const id of brokerIds) c.sim.net.setLinkFault(id, ctl.id, { drop: 1 });
    c.run(unfencedMs + 800);
    c.sim.net.clearLinkFaults();
    c.run(unfencedMs + 120_000);
    expect(c.sim.props.violation).toBeNull();
    expect(outOfIsr(c, b)).toBe(0);
  });
});
