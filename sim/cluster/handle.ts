import type { ClusterTracker } from './tracker.ts';

/** What buildKraftCluster / buildZkCluster hand to a scenario. */
export interface KafkaClusterHandle {
  readonly tracker: ClusterTracker;
  /** Model-specific figures for the result's `extra` (merge with tracker.extra()). */
  extra(): Record<string, number | string | null>;
}
