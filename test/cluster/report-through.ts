import type { SimNode } from '../../core/index.ts';
import type { Milestone } from '../../sim/cluster/recovery.ts';
import { ObservationChannel, type ObservationHost } from '../../sim/cluster/observe.ts';
import { PartitionStateBatch } from '../../sim/cluster/partitions.ts';
import type { ClusterTracker } from '../../sim/cluster/tracker.ts';

/** What a scripted model reports in tracker tests, one state at a time, through an ObservationChannel. */
export interface ScriptedModel {
  readonly obs: ObservationChannel;
  commit(p: number, leader: number, leaderEpoch: number, partitionEpoch: number, isr: number): void;
  brokerApply(b: number, p: number, leader: number, leaderEpoch: number, partitionEpoch: number, isr: number): void;
  brokerCacheReset(b: number): void;
  setBrokerServing(b: number, serving: boolean): void;
  setControllerActive(node: SimNode | number, active: boolean): void;
  setControllerReady(node: SimNode | number): void;
  milestone(name: Milestone): void;
}

function one(p: number, leader: number, leaderEpoch: number, partitionEpoch: number, isr: number): PartitionStateBatch {
  const b = PartitionStateBatch.ofSize(1);
  b.push(p, leader, leaderEpoch, partitionEpoch, isr);
  return b;
}

/** A channel for `brokers` with the tracker subscribed, and the scripted model that reports on it. */
export function reportThrough(host: ObservationHost, tracker: ClusterTracker, brokers: readonly SimNode[]): ScriptedModel {
  const obs = new ObservationChannel(host);
  obs.setBrokerNodes(brokers.map((n) => n.id));
  obs.subscribe(tracker.observer);
  return {
    obs,
    commit: (p, l, le, pe, isr) => obs.truth(one(p, l, le, pe, isr)),
    brokerApply: (b, p, l, le, pe, isr) => obs.applied(b, one(p, l, le, pe, isr)),
    brokerCacheReset: (b) => obs.cacheReset(b),
    setBrokerServing: (b, v) => obs.serving(b, v),
    setControllerActive: (node, active) => obs.controller(typeof node === 'number' ? node : node.id, active ? 'active' : 'resigned'),
    setControllerReady: (node) => obs.controller(typeof node === 'number' ? node : node.id, 'ready'),
    milestone: (name) => obs.milestone(name),
  };
}
