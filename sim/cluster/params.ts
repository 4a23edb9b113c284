import { listParam, num, type Params, type ParamSpecs } from '../params.ts';
import { COST_PARAMS } from './cost.ts';
import type { TrackerOptions } from './tracker.ts';

/** What-ifs of the measurement itself (tracker.ts); part of every Kafka scenario's `bugs`. */
export const CLUSTER_BUGS: readonly string[] = ['tracker.loading-blind'];

/** Cluster shape and run-control parameters shared by both modes, plus the whole cost model. */
export const CLUSTER_PARAMS: ParamSpecs = {
  partitions: { default: 200_000, unit: 'count', description: 'partitions in the cluster', source: 'kafka-facts §4: 200k is the ZK-mode guideline (Jun Rao, 2018); KRaft targets 2M', min: 1, integer: true },
  'partitions.per.topic': { default: 50, unit: 'count', description: 'partitions per topic (topics = ceil(partitions / this))', source: 'kafka-facts §1.7: the Kafka 1.1 failover test used 2,000 topics × 50 partitions', min: 1, integer: true },
  'replication.factor': { default: 3, unit: 'count', description: 'replicas per partition (at most 8)', source: 'common production setting (default.replication.factor defaults to 1)', min: 1, integer: true },
  brokers: { default: 12, unit: 'count', description: 'brokers (ids 0..brokers-1, nodes broker-0…)', source: 'estimate: a mid-size cluster; 200k partitions × rf 3 / 12 ≈ 50k replicas per broker', min: 1, integer: true },
  'settle.ms': { default: 5000, unit: 'ms', description: 'a run is declared recovered once every fault step has run and the cluster has been healthy this long', source: 'simulator control, not a Kafka setting', min: 0 },
  'verdict.probation.ms': { default: 30_000, unit: 'ms', description: 'after the recovered verdict the run goes on this long, and any loss of health without a new fault violates cluster.recovery-holds; then it stops', source: 'simulator control; estimate: covers a ZK-mode context reload at 200k partitions (≈32 s), the longest pending work found behind a premature verdict; costs < 1 % more events at 200k', min: 0 },
  ...COST_PARAMS,
};

/** The tracker's options from a Kafka scenario's parameters. */
export function trackerOptions(params: Params): TrackerOptions {
  const bugs = listParam(params, 'bugs');
  return {
    settleMs: num(params, 'settle.ms'),
    probationMs: params['verdict.probation.ms'] === undefined ? 0 : num(params, 'verdict.probation.ms'),
    loadingBlind: bugs.has('tracker.loading-blind'),
  };
}
