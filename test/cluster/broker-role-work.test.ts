import { describe, expect, it } from 'vitest';
import { msToUs, Simulation, type SimNode } from '../../core/index.ts';
import type { ClusterTracker } from '../../sim/cluster/tracker.ts';
import { CLUSTER_PARAMS } from '../../sim/cluster/params.ts';
import { buildKraftCluster, KRAFT_BUGS, KRAFT_PARAMS } from '../../sim/kraft/cluster.ts';
import { defaults, type ParamValue } from '../../sim/params.ts';
import { buildZkCluster, ZK_BUGS, ZK_PARAMS } from '../../sim/zkmode/cluster.ts';

/**
 * Both modes pay the shared broker entries for exactly the partitions whose role changed at the
 * broker (Kafka 3.9: ZK mode ReplicaManager.becomeLeaderOrFollower, KRaft ReplicaManager.applyDelta,
 * the same Partition.makeLeader / makeFollower). A broker that is not the controller is killed;
 * another broker's thread time is read after the controller has moved the dead broker's leaderships
 * and ISR memberships. Costs are set so the count shows in the time: a full transition (new leader
 * epoch) 1,000 µs, a partition examined without one 1 µs, the metadata apply free.
 */
const COSTS: Record<string, ParamValue> = {
  'broker.make.leader.follower.us.per.partition': 1000,
  'broker.partition.examine.us.per.partition': 1,
  'broker.metadata.apply.us.per.partition': 0,
};
const X = 3; // killed
const B = 5; // observed
const CRASH_MS = 5000;
/** Before any leader notices the dead follower itself (replica.lag.time.max.ms = 30 s). */
const END_MS = 33_000;

interface Expected {
  /** B's partitions whose leader epoch changed: makeLeader / makeFollower at a new epoch. */
  transitions: number;
  /** Of those, the ones B now leads: a leader-epoch checkpoint each. */
  newLeaders: number;
  /** B's partitions whose partition epoch changed with the same leader epoch (ISR only). */
  isrOnly: number;
}

function expected(t: ClusterTracker, le0: Int32Array, pe0: Int32Array): Expected {
  const e: Expected = { transitions: 0, newLeaders: 0, isrOnly: 0 };
  for (let p = 0; p < t.truth.size; p++) {
    if (t.truth.slotOf(p, B) < 0) continue;
    if (t.truth.leaderEpoch[p] !== le0[p]) {
      e.transitions++;
      if (t.truth.leader[p] === B) e.newLeaders++;
    } else if (t.truth.partitionEpoch[p] !== pe0[p]) e.isrOnly++;
  }
  return e;
}

function observe(sim: Simulation, t: ClusterTracker, executor: string, overridesRun: () => void): { busyUs: number; checkpoints: number; e: Expected } {
  const node: SimNode = sim.node(`broker-${B}`);
  let checkpoints = 0;
  sim.trace.sink = (r) => {
    if (r.kind === 'exec' && r.node === node.id && r.label === 'LeaderEpochFileCache.assign') checkpoints++;
  };
  let le0 = new Int32Array(0);
  let pe0 = new Int32Array(0);
  let busy0 = 0;
  sim.at(msToUs(CRASH_MS), () => {
    le0 = t.truth.leaderEpoch.slice();
    pe0 = t.truth.partitionEpoch.slice();
    busy0 = node.executor(executor).busyUs;
    checkpoints = 0;
  });
  overridesRun();
  expect(sim.props.violation).toBeNull();
  return { busyUs: node.executor(executor).busyUs - busy0, checkpoints, e: expected(t, le0, pe0) };
}

const plan = { steps: [{ atMs: CRASH_MS, action: { type: 'crash' as const, node: `broker-${X}` }, main: true }, { atMs: END_MS, action: { type: 'heal' as const } }] };

describe('makeLeader / makeFollower cost the same entry in both modes, for the partitions whose role changed', () => {
  it('KRaft: the metadata-loader thread pays a full transition per leader-epoch change and the examine cost per ISR-only change', () => {
    const sim = new Simulation({ seed: '7' });
    const params = { ...defaults({ ...CLUSTER_PARAMS, ...KRAFT_PARAMS, bugs: { default: '', unit: '', description: '', choices: KRAFT_BUGS, list: true } }), partitions: 3000, brokers: 6, ...COSTS };
    const h = buildKraftCluster({ sim, params, mode: 'kraft', seed: 7 });
    const r = observe(sim, h.tracker, 'metadata-loader', () => {
      sim.installFaults(plan);
      sim.run({ untilUs: msToUs(END_MS) });
    });
    // The crash moved leaderships to B and shrank ISRs without a new leader epoch (KAFKA-15021).
    expect(r.e.transitions).toBeGreaterThan(0);
    expect(r.e.newLeaders).toBeGreaterThan(0);
    expect(r.e.isrOnly).toBeGreaterThan(0);
    expect(r.e.isrOnly).toBeLessThan(1000);
    expect(Math.floor(r.busyUs / 1000)).toBe(r.e.transitions);
    expect(Math.round(r.busyUs % 1000)).toBe(r.e.isrOnly);
    expect(r.checkpoints).toBe(r.e.newLeaders);
  });

  it('ZK mode: the request handler pays the same full transition per partition with a newer leader epoch in LeaderAndIsr', () => {
    const sim = new Simulation({ seed: '7' });
    const params = { ...defaults({ ...CLUSTER_PARAMS, ...ZK_PARAMS, bugs: { default: '', unit: '', description: '', choices: [...ZK_BUGS], list: true } }), partitions: 3000, brokers: 6, ...COSTS };
    const h = buildZkCluster({ sim, params, mode: 'zk', seed: 7 });
    const r = observe(sim, h.tracker, 'request-handler', () => {
      sim.installFaults(plan);
      sim.run({ untilUs: msToUs(END_MS) });
    });
    // ZK mode bumps the leader epoch on an ISR shrink by the controller: every change is a transition.
    expect(r.e.transitions).toBeGreaterThan(0);
    expect(r.e.newLeaders).toBeGreaterThan(0);
    expect(r.e.isrOnly).toBe(0);
    // Partitions sent again at an epoch B already holds would cost 1 µs each: fewer than 1,000 here.
    expect(Math.floor(r.busyUs / 1000)).toBe(r.e.transitions);
    expect(r.checkpoints).toBe(r.e.newLeaders);
  });
});
