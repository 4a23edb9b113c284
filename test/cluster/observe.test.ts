import { describe, expect, it } from 'vitest';
import bounce from '../../scenarios/broker-bounce.ts';
import { buildKafkaCluster } from '../../sim/kafka.ts';
import { batchChecksum, batchDetail } from '../../sim/cluster/observe.ts';
import { PartitionStateBatch } from '../../sim/cluster/partitions.ts';
import type { BrokerServer } from '../../sim/kraft/broker-server.ts';
import type { QuorumController } from '../../sim/kraft/quorum-controller.ts';
import type { Mode } from '../../sim/result.ts';
import { runOnce } from '../../sim/run.ts';
import { defineScenario } from '../../sim/scenario.ts';
import type { ZkBroker } from '../../sim/zkmode/broker.ts';

/**
 * A broker killed and restarted (its cache is emptied and reloaded), with a look at the end: does
 * the tracker's mirror of every live broker's cache — built only from the observations — hold what
 * the broker's own cache holds, and does the tracker's truth match the model's committed state?
 */
const mirrored = defineScenario({
  ...bounce,
  name: 'observe-mirror-test',
  build(ctx) {
    const h = buildKafkaCluster(ctx);
    const sim = ctx.sim;
    const P = h.tracker.layout.partitions;
    const B = h.tracker.layout.brokers;
    const at = 10_000;
    return {
      plan: {
        steps: [
          { atMs: at, action: { type: 'crash', node: 'broker-1' }, main: true },
          { atMs: at + 10_000, action: { type: 'restart', node: 'broker-1' } },
        ],
      },
      metrics: () => h.tracker.metrics(),
      extra: () => {
        const t = h.tracker;
        let compared = 0;
        let differ = 0;
        for (let b = 0; b < B; b++) {
          const node = sim.node(`broker-${b}`);
          if (!t.isLive(b)) continue;
          const cache = ctx.mode === 'zk' ? (node.behavior as ZkBroker).cache : (h as unknown as { brokerServer(b: number): BrokerServer }).brokerServer(b).cache;
          for (let p = 0; p < P; p++) {
            compared++;
            if (t.cachedLeader(b, p) !== cache.leader[p] || t.cachedLeaderEpoch(b, p) !== cache.leaderEpoch[p] || t.cachedIsr(b, p) !== cache.isr[p]) differ++;
          }
        }
        // Truth: ZK mode, what the ZooKeeper leader committed; KRaft, the active controller's committed image.
        let truthDiffer = 0;
        if (ctx.mode === 'zk') {
          const committed = (sim.node('broker-0').behavior as ZkBroker).controller.h.committed;
          for (let p = 0; p < P; p++) if (committed.leader[p] !== t.truth.leader[p] || committed.leaderEpoch[p] !== t.truth.leaderEpoch[p] || committed.isr[p] !== t.truth.isr[p] || committed.partitionEpoch[p] !== t.truth.partitionEpoch[p]) truthDiffer++;
        } else {
          const kh = h as unknown as { activeController(): { id: number } | null; controllerOf(n: unknown): QuorumController | undefined };
          const n = kh.activeController();
          const img = n === null ? null : kh.controllerOf(n)!.committed.partitions;
          if (img === null) truthDiffer = -1;
          else for (let p = 0; p < P; p++) if (img.leader[p] !== t.truth.leader[p] || img.leaderEpoch[p] !== t.truth.leaderEpoch[p] || img.isr[p] !== t.truth.isr[p]) truthDiffer++;
        }
        return { ...t.extra(), compared, differ, truthDiffer };
      },
    };
  },
});

describe('the tracker holds no model state: its views are built from observations alone', () => {
  for (const mode of ['zk', 'kraft'] as Mode[]) {
    it(`${mode}: after a broker bounce, the mirror of every live broker's cache equals the broker's own cache, and truth the model's committed state`, () => {
      const r = runOnce({ file: 'test', scenario: mirrored, seed: 3, mode, overrides: { partitions: 3000 }, untilUs: 30 * 60 * 1_000_000 });
      expect(r.violation).toBeNull();
      // the bounced broker reset and reloaded its cache, and the others changed theirs
      expect(r.metrics.divergence.maxPartitions).toBeGreaterThan(0);
      expect(r.extra['compared']).toBe(3000 * 12);
      expect(r.extra['differ']).toBe(0);
      expect(r.extra['truthDiffer']).toBe(0);
    }, 120_000);
  }
});

describe('batch observations in the trace', () => {
  it('the checksum covers every field of every state, and the detail lists them', () => {
    const b = PartitionStateBatch.ofSize(3);
    b.push(7, 1, 4, 9, 0b101);
    b.push(8, 2, 5, 10, 0b011);
    const base = batchChecksum(b);
    expect(Number.isInteger(base) && (base | 0) === base).toBe(true);
    expect(batchDetail(b)).toBe('7,1,4,9,5;8,2,5,10,3');
    const seen = new Set([base]);
    for (const field of ['partition', 'leader', 'leaderEpoch', 'partitionEpoch', 'isr'] as const) {
      for (const i of [0, 1]) {
        const c = PartitionStateBatch.ofSize(3);
        c.push(7, 1, 4, 9, 0b101);
        c.push(8, 2, 5, 10, 0b011);
        c[field][i]! += 1;
        seen.add(batchChecksum(c));
      }
    }
    expect(seen.size).toBe(11);
    b.push(9, 0, 0, 0, 7);
    expect(batchChecksum(b)).not.toBe(base);
  });
});
