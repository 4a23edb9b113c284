import { describe, expect, it } from 'vitest';
import { RECOVERY_HOLDS } from '../../sim/cluster/tracker.ts';
import { buildKafkaCluster, KAFKA_PARAMS } from '../../sim/kafka.ts';
import { num } from '../../sim/params.ts';
import type { Mode, RunResult } from '../../sim/result.ts';
import { runOnce } from '../../sim/run.ts';
import { defineScenario } from '../../sim/scenario.ts';
import { libraryScenario } from '../library.ts';

/**
 * The recovery verdict on real runs: a controller that is still loading is not a healthy one, a
 * recovered verdict must hold (cluster.recovery-holds), and the phases are defined for a failure
 * that changes no controller.
 */

/** The active ZK-mode controller loses ZooKeeper only: cut off from every server, still connected to the brokers. */
const zkCut = defineScenario({
  name: 'controller-zk-cut-test',
  description: 'test: the active controller is partitioned from every ZooKeeper server, then healed',
  modes: ['zk'],
  until: '30m',
  params: {
    ...KAFKA_PARAMS,
    'fault.at.ms': { default: 10_000, unit: 'ms', description: 'when the controller is cut off', min: 0 },
    'heal.at.ms': { default: 28_000, unit: 'ms', description: 'when the partition heals', min: 0 },
  },
  build(ctx) {
    const h = buildKafkaCluster(ctx);
    return {
      plan: {
        steps: [
          { atMs: num(ctx.params, 'fault.at.ms'), action: { type: 'partition', shape: { type: 'symmetric', a: ['@activeController'], b: ['zk-0', 'zk-1', 'zk-2'] } }, main: true },
          { atMs: num(ctx.params, 'heal.at.ms'), action: { type: 'heal' } },
        ],
      },
      metrics: () => h.tracker.metrics(),
      extra: () => ({ ...h.tracker.extra(), ...h.extra() }),
    };
  },
});

/** kill -9 of broker 5: neither ZK mode's controller (broker 0) nor a KRaft controller. */
const brokerCrash = defineScenario({
  name: 'broker-crash-test',
  description: 'test: a broker that is not the controller crashes',
  modes: ['zk', 'kraft'],
  until: '30m',
  params: { ...KAFKA_PARAMS },
  build(ctx) {
    const h = buildKafkaCluster(ctx);
    return {
      plan: { steps: [{ atMs: 10_000, action: { type: 'crash', node: 'broker-5' }, main: true }] },
      metrics: () => h.tracker.metrics(),
      extra: () => ({ ...h.tracker.extra(), ...h.extra() }),
    };
  },
});

function go(s: typeof zkCut, mode: Mode, overrides: Record<string, string | number | boolean>, seed = 42): RunResult {
  return runOnce({ file: 'test', scenario: s, seed, mode, overrides, untilUs: 30 * 60 * 1_000_000 });
}

const sum = (p: RunResult['metrics']['phases']): number => (p.detectMs ?? 0) + (p.electMs ?? 0) + (p.loadMs ?? 0) + (p.propagateMs ?? 0);

describe('a ZK-mode controller cut off from ZooKeeper only (50k partitions)', () => {
  // Its session expires at ≈26 s, broker 2 wins and loads; the heal at 28 s makes the old
  // controller resign, so from ≈28 s there is one active controller — still loading — and every
  // partition is available. When the load ends it moves the old controller's leaderships.
  const o = { partitions: 50_000 };
  // The honest run, made once for both tests (the what-if compares against it).
  let honestRun: RunResult | undefined;
  const honest = (): RunResult => (honestRun ??= go(zkCut, 'zk', o));

  it('is not declared recovered while the new controller loads', () => {
    const r = honest();
    expect(r.violation).toBeNull();
    expect(r.stop.detail).toBe('recovered and settled');
    const m = r.metrics;
    // A new controller was elected and finished loading before recovery.
    expect(m.phases.detectMs).not.toBeNull();
    expect(m.phases.electMs).not.toBeNull();
    expect(m.phases.loadMs!).toBeGreaterThan(5_000);
    expect(m.phases.propagateMs).not.toBeNull();
    expect(sum(m.phases)).toBeCloseTo(m.recoveryMs!, 6);
    expect(r.extra['zk.controller.epoch']).toBe(2);
    // It moved the leaderships of the old controller, whose registration had expired.
    expect(m.maxUnavailablePartitions!).toBeGreaterThan(1000);
    // The verdict comes settle.ms after recovery, the stop a probation later.
    const faultMs = 10_000;
    expect(r.extra['verdictAtMs']).toBeCloseTo(faultMs + m.recoveryMs! + 5_000, 6);
    expect(r.simMs).toBeCloseTo((r.extra['verdictAtMs'] as number) + 30_000, 6);
    expect(r.extra['healthyAtEnd']).toBe('yes');
    expect(r.extra['loadingControllersAtEnd']).toBe(0);
  });

  it("what-if 'tracker.loading-blind' (the old definition): declared recovered, then the late leader moves break cluster.recovery-holds", () => {
    const r = go(zkCut, 'zk', { ...o, bugs: 'tracker.loading-blind' });
    expect(r.violation?.invariant).toBe(RECOVERY_HOLDS);
    expect(r.violation!.detail).toMatch(/declared recovered at .* lost health at/);
    // The outage comes before the honest run's recovery: what the old verdict hid.
    expect(r.violation!.atMs).toBeLessThan(10_000 + honest().metrics.recoveryMs!);
  });
});

describe('phases of a broker crash (no controller change), both modes', () => {
  it('ZK mode: detect = session expiry → BrokerChange at the controller; elect and load null; detect + propagate = recovery', () => {
    const r = go(brokerCrash, 'zk', { partitions: 20_000 });
    expect(r.violation).toBeNull();
    const m = r.metrics;
    expect(r.extra['zk.controller.epoch']).toBe(1);
    // zookeeper.session.timeout.ms = 18 s, less the time since the broker's last ping, tick-bucketed.
    expect(m.phases.detectMs!).toBeGreaterThan(12_000);
    expect(m.phases.detectMs!).toBeLessThanOrEqual(20_000);
    expect(m.phases.electMs).toBeNull();
    expect(m.phases.loadMs).toBeNull();
    expect(m.phases.propagateMs!).toBeGreaterThan(0);
    expect(m.phases.detectMs! + m.phases.propagateMs!).toBeCloseTo(m.recoveryMs!, 6);
  });

  it('KRaft: detect = broker session timeout → fencing; elect and load null; detect + propagate = recovery', () => {
    const r = go(brokerCrash, 'kraft', { partitions: 20_000 });
    expect(r.violation).toBeNull();
    const m = r.metrics;
    expect(r.extra['raftEpoch']).toBe(1);
    // broker.session.timeout.ms = 9 s after the last heartbeat (every broker.heartbeat.interval.ms = 2 s).
    expect(m.phases.detectMs!).toBeGreaterThan(9_000 - 2_000 - 100);
    expect(m.phases.detectMs!).toBeLessThanOrEqual(9_000);
    expect(m.phases.electMs).toBeNull();
    expect(m.phases.loadMs).toBeNull();
    expect(m.phases.propagateMs!).toBeGreaterThan(0);
    expect(m.phases.detectMs! + m.phases.propagateMs!).toBeCloseTo(m.recoveryMs!, 6);
  });
});

describe('KRaft: the active controller is ready once its image holds everything up to its epoch start', () => {
  it('a hot standby is ready the moment it activates (loadMs 0); activated before its epoch commits (leader-change-before-commit), it loads until its replay catches up', async () => {
    const failover = await libraryScenario('scenarios/controller-failover.ts');
    const hot = go(failover as typeof zkCut, 'kraft', { partitions: 20_000 });
    const early = go(failover as typeof zkCut, 'kraft', { partitions: 20_000, bugs: 'leader-change-before-commit' });
    expect(hot.metrics.phases.loadMs).toBe(0);
    expect(early.metrics.phases.loadMs!).toBeGreaterThan(0);
    for (const r of [hot, early]) expect(sum(r.metrics.phases)).toBeCloseTo(r.metrics.recoveryMs!, 6);
  });
});

// cluster.recovery-holds on the scenario library (registered in every Kafka scenario, both modes, and
// holding there; controller failover's four phases adding up) is checked on the safety corpus's own
// runs, every seed of it: test/check/corpus.test.ts.
