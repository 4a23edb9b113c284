import { describe, expect, it } from 'vitest';
import type { TraceRecord } from '../../core/index.ts';
import { makeLayout } from '../../sim/cluster/layout.ts';
import type { ParamValue } from '../../sim/params.ts';
import { runOnce } from '../../sim/run.ts';
import { defineScenario } from '../../sim/scenario.ts';
import type { ZkBroker } from '../../sim/zkmode/broker.ts';
import { buildZkCluster } from '../../sim/zkmode/cluster.ts';
import { ZK_TEST_PARAMS } from './run.ts';

const FIRST = 2; // shut down first: LeaderAndIsr A (leader epoch 1 for its partitions)
const SECOND = 3; // shut down later: LeaderAndIsr B (leader epoch 2 where both were replicas)
const A_AT_MS = 10_000;
const SLOW_UNTIL_MS = 14_000;
const B_AT_MS = 16_000;
const CHECK_AT_MS = 40_000;
const DELAY_MS = 20_000;

/**
 * A LeaderAndIsr older than what a broker holds, delivered by the model itself: the controller's
 * link to broker X is slow (20 s) and does not keep order from A_AT_MS (once A's connection is up)
 * to SLOW_UNTIL_MS (a RequestSendThread re-send goes out on a new connection once one can be set up;
 * the closed one's bytes already on the wire still arrive).
 * LeaderAndIsr A (FIRST's controlled shutdown) times out and is re-sent until a copy sent after the
 * link recovered is answered; then B (SECOND's controlled shutdown) bumps the same partitions again
 * and is applied; the slow copies of A land ~20 s after they were sent, on a broker that has B.
 * X is the broker sharing the most partitions with both FIRST and SECOND.
 */
const delayed = defineScenario({
  name: 'zk-leader-epoch-fence-test',
  description: 'test: an old LeaderAndIsr arrives after a newer one',
  modes: ['zk'],
  until: '30m',
  params: ZK_TEST_PARAMS,
  build(ctx) {
    const h = buildZkCluster(ctx);
    const sim = ctx.sim;
    const layout = makeLayout(ctx.params);
    const rf = layout.replicationFactor;
    const hosts = (p: number, b: number): boolean => {
      for (let i = 0; i < rf; i++) if (layout.replicas[p * rf + i] === b) return true;
      return false;
    };
    const shared = new Map<number, number[]>();
    for (let p = 0; p < layout.partitions; p++) {
      if (!hosts(p, FIRST) || !hosts(p, SECOND)) continue;
      for (let i = 0; i < rf; i++) {
        const b = layout.replicas[p * rf + i]!;
        if (b === 0 || b === FIRST || b === SECOND) continue;
        if (!shared.has(b)) shared.set(b, []);
        shared.get(b)!.push(p);
      }
    }
    let x = -1;
    for (const [b, ps] of shared) if (x < 0 || ps.length > shared.get(x)!.length) x = b;
    const both = x < 0 ? [] : shared.get(x)!;
    const xNode = sim.node(`broker-${x}`).id;
    const ctrl = sim.node('broker-0').id;
    const lairToX: number[] = [];
    sim.trace.sink = (r: TraceRecord) => {
      if (r.kind === 'deliver' && r.node === xNode && r.peer === ctrl && r.label === 'LeaderAndIsr') lairToX.push(r.atUs);
    };
    const seen = { checked: 0, behindTruth: 0, replicaBehind: 0, truthEpochMin: -1, bAppliedUs: -1 };
    // The moment X holds B's epoch for every shared partition (polled).
    const watchB = (): void => {
      const t = h.tracker;
      if (both.length > 0 && both.every((p) => t.cachedLeaderEpoch(x, p) >= 2)) {
        seen.bAppliedUs = sim.nowUs;
        return;
      }
      sim.after(10_000, watchB);
    };
    sim.at(B_AT_MS * 1000, watchB);
    sim.at(CHECK_AT_MS * 1000, () => {
      const t = h.tracker;
      const cache = (sim.node(`broker-${x}`).behavior as ZkBroker).cache;
      const replica = (sim.node(`broker-${x}`).behavior as ZkBroker).replicas;
      seen.truthEpochMin = Number.MAX_SAFE_INTEGER;
      for (const p of both) {
        seen.checked++;
        seen.truthEpochMin = Math.min(seen.truthEpochMin, t.truth.leaderEpoch[p]!);
        if (cache.leaderEpoch[p]! < t.truth.leaderEpoch[p]! || cache.leader[p] !== t.truth.leader[p]) seen.behindTruth++;
        if (replica.leaderEpochOf(p) < t.truth.leaderEpoch[p]!) seen.replicaBehind++;
      }
    });
    sim.at(A_AT_MS * 1000, () => h.controlledShutdown(FIRST, () => undefined));
    sim.at(B_AT_MS * 1000, () => h.controlledShutdown(SECOND, () => undefined));
    return {
      plan: {
        steps: [
          { atMs: SLOW_UNTIL_MS, action: { type: 'clear-link-faults' } },
          // Keeps the run going until after the check.
          { atMs: CHECK_AT_MS, action: { type: 'clear-link-faults' } },
        ],
        // The link turns slow as soon as the controller's connection to X is up for A, before A goes out on it.
        triggers: [{ when: { kind: 'connected', node: 'broker-0', peer: `broker-${x}`, label: 'controller-channel', fromMs: A_AT_MS }, action: { type: 'link-fault', from: 'broker-0', to: `broker-${x}`, delayMs: DELAY_MS, reorder: 1 } }],
      },
      metrics: () => h.tracker.metrics(),
      extra: () => ({
        ...h.tracker.extra(),
        ...h.extra(),
        'test.x': x,
        'test.shared': both.length,
        'test.checked': seen.checked,
        'test.behindTruth': seen.behindTruth,
        'test.replicaBehind': seen.replicaBehind,
        'test.truthEpochMin': seen.truthEpochMin,
        'test.bAppliedMs': seen.bAppliedUs / 1000,
        'test.lairToX': lairToX.map((u) => u / 1000).join(','),
      }),
    };
  },
});

const run = (overrides: Record<string, ParamValue>) => runOnce({ file: 'test', scenario: delayed, seed: 42, mode: 'zk', overrides: { partitions: 2000, ...overrides }, untilUs: 30 * 60 * 1_000_000 });
const n = (v: unknown): number => v as number;

describe('broker: LeaderAndIsr applies a partition state only for a newer leader epoch (ReplicaManager.becomeLeaderOrFollower)', () => {
  it('copies of an older LeaderAndIsr arriving after a newer one leave the broker at the newer state', () => {
    const r = run({ 'controller.socket.timeout.ms': 1000 });
    expect(r.violation).toBeNull();
    expect(n(r.extra['test.shared'])).toBeGreaterThan(0);
    // The premise: B (epoch 2) was applied, and then older LeaderAndIsr copies arrived.
    const bApplied = n(r.extra['test.bAppliedMs']);
    expect(bApplied).toBeGreaterThan(B_AT_MS);
    const deliveries = (r.extra['test.lairToX'] as string).split(',').map(Number);
    const late = deliveries.filter((t) => t > bApplied && t < CHECK_AT_MS);
    expect(late.length).toBeGreaterThan(0);
    expect(Math.min(...late)).toBeGreaterThan(A_AT_MS + DELAY_MS);
    // Truth moved twice for the shared partitions; X's cache and replica state kept the newer one.
    expect(n(r.extra['test.checked'])).toBe(n(r.extra['test.shared']));
    expect(n(r.extra['test.truthEpochMin'])).toBe(2);
    expect(r.extra['test.behindTruth']).toBe(0);
    expect(r.extra['test.replicaBehind']).toBe(0);
    expect(r.extra['divergenceAtEnd']).toBe(0);
    expect(r.metrics.divergence.phantomStates).toBe(0);
  });
});
