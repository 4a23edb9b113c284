import { describe, expect, it } from 'vitest';
import type { ParamValue } from '../../sim/params.ts';
import { runOnce } from '../../sim/run.ts';
import { defineScenario } from '../../sim/scenario.ts';
import { buildZkCluster } from '../../sim/zkmode/cluster.ts';
import { failover, run, ZK_TEST_PARAMS } from './run.ts';

/**
 * Broker 3 is cut off from everything at 5 s (its session expires; it keeps running with
 * controller epoch 1 in its cache) while two controllers crash in turn (epochs 2 and 3 are
 * elected among brokers 1 and 2). At 70 s the network heals and the epoch-3 controller crashes:
 * broker 3 re-registers before it hears from any controller and, once /controller expires, is the
 * only broker left to elect itself. Brokers 0–2 restart at 100 s so the cluster can heal.
 */
const staleElector = defineScenario({
  name: 'zk-stale-elector-test',
  description: 'test: a broker that missed two failovers wins the next election',
  modes: ['zk'],
  until: '30m',
  params: ZK_TEST_PARAMS,
  build(ctx) {
    const h = buildZkCluster(ctx);
    return {
      plan: {
        steps: [
          { atMs: 5_000, action: { type: 'partition', shape: { type: 'isolate', node: 'broker-3' } } },
          { atMs: 10_000, action: { type: 'crash', node: '@activeController' }, main: true },
          { atMs: 40_000, action: { type: 'crash', node: '@activeController' } },
          { atMs: 70_000, action: { type: 'heal' } },
          { atMs: 70_000, action: { type: 'crash', node: '@activeController' } },
          { atMs: 100_000, action: { type: 'heal-all', restart: true } },
        ],
      },
      metrics: () => h.tracker.metrics(),
      extra: () => ({ ...h.tracker.extra(), ...h.extra() }),
    };
  },
});

const go = (overrides: Record<string, ParamValue>, seed: number) =>
  runOnce({ file: 'test', scenario: staleElector, seed, mode: 'zk', overrides: { partitions: 400, brokers: 4, ...overrides }, untilUs: 600_000_000 });

describe("what-if zk.controller-epoch-from-cache (the new epoch from the broker's cache, written unconditionally)", () => {
  it('a broker that missed two failovers elects itself with an epoch ZooKeeper already had; reading /controller_epoch it takes the next one', () => {
    for (const seed of [1, 2, 3]) {
      const ok = go({}, seed);
      expect(ok.violation).toBeNull();
      // Three failovers: epochs 2, 3 and broker 3's 4 (it re-registered and won, hearing from nobody).
      expect(ok.extra['zk.controller.epoch']).toBe(4);
      expect(ok.extra['zk.controller.broker']).toBe(3);
      expect(ok.extra['healthyAtEnd']).toBe('yes');
      const bug = go({ bugs: 'zk.controller-epoch-from-cache' }, seed);
      expect(bug.violation?.invariant).toBe('zk.controller-epoch-monotonic');
      expect(bug.violation?.detail).toContain('from 3 to 2');
    }
  });

  it('a broker whose cache is current takes the right epoch with the what-if too (it takes staleness to break it)', () => {
    const r = run(failover, { partitions: 2000, bugs: 'zk.controller-epoch-from-cache' });
    expect(r.violation).toBeNull();
    expect(r.extra['zk.controller.epoch']).toBe(2);
    expect(r.extra['healthyAtEnd']).toBe('yes');
  });
});
