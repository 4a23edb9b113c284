import { describe, expect, it } from 'vitest';
import { CLUSTER_PARAMS } from '../../sim/cluster/params.ts';
import { runOnce } from '../../sim/run.ts';
import { defineScenario } from '../../sim/scenario.ts';
import { buildZkCluster, ZK_BUGS, ZK_PARAMS } from '../../sim/zkmode/cluster.ts';

/**
 * Every replica of some partitions dies at once: those partitions go offline (leader -1, the last
 * ISR member kept, as ReplicaStateMachine.doRemoveReplicasFromIsr does). When the brokers return,
 * onBrokerStartup's triggerOnlinePartitionStateChange must elect a leader from the ISR again.
 */
const outage = defineScenario({
  name: 'zk-offline-test',
  description: 'test: a whole ISR dies, then comes back',
  modes: ['zk'],
  until: '10m',
  params: {
    ...CLUSTER_PARAMS,
    ...ZK_PARAMS,
    partitions: { ...CLUSTER_PARAMS['partitions']!, default: 500 },
    brokers: { ...CLUSTER_PARAMS['brokers']!, default: 5 },
    'restart.at.ms': { default: 40_000, unit: 'ms', description: 'when the brokers restart (-1: never)', min: -1 },
    bugs: { default: '', unit: '', description: 'bugs', choices: [...ZK_BUGS], list: true },
  },
  build(ctx) {
    const h = buildZkCluster(ctx);
    const at = ctx.params['restart.at.ms'] as number;
    const dead = ['broker-1', 'broker-2', 'broker-3'];
    return {
      plan: {
        steps: [
          ...dead.map((node) => ({ atMs: 5_000, action: { type: 'crash' as const, node }, main: true })),
          ...(at < 0 ? [] : dead.map((node, i) => ({ atMs: at + i * 3_000, action: { type: 'restart' as const, node } }))),
        ],
      },
      metrics: () => h.tracker.metrics(),
      extra: () => ({ ...h.tracker.extra(), ...h.extra() }),
    };
  },
});

describe('offline partitions (ZK mode)', () => {
  it('a partition whose whole ISR died gets a leader again once an ISR replica returns', () => {
    for (const seed of [1, 2]) {
      const r = runOnce({ file: 'test', scenario: outage, seed, mode: 'zk', overrides: {}, untilUs: 600_000_000 });
      expect(r.violation, JSON.stringify(r.violation)).toBeNull();
      // Partitions with all three replicas on brokers 1–3 had no live replica for a while.
      expect(r.metrics.maxUnavailablePartitions!).toBeGreaterThan(0);
      expect(r.extra['healthyAtEnd']).toBe('yes');
      expect(r.extra['unavailableAtEnd']).toBe(0);
      expect(r.metrics.recoveryMs!).toBeGreaterThan(40_000 - 5_000);
    }
  });

  it('liveness fails when the brokers never return: those partitions stay offline', () => {
    const r = runOnce({ file: 'test', scenario: outage, seed: 1, mode: 'zk', overrides: { 'restart.at.ms': -1, 'zk.liveness.ms': 60_000 }, untilUs: 600_000_000 });
    expect(r.violation?.invariant).toBe('zk.one-controller-and-brokers-converged');
    expect(r.violation?.detail).toContain('unavailable partition');
    expect(r.violation!.atMs).toBeGreaterThanOrEqual(65_000);
  });
});
