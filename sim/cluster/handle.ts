import type { ObservationChannel } from './observe.ts';
import type { ClusterTracker } from './tracker.ts';

/** What buildKraftCluster / buildZkCluster hand to a scenario. */
export interface KafkaClusterHandle {
  readonly tracker: ClusterTracker;
  /** The models' observations; the tracker is one subscriber. */
  readonly observations: ObservationChannel;
  /** Model-specific figures for the result's `extra` (merge with tracker.extra()). */
  extra(): Record<string, number | string | null>;
}
