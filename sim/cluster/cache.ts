import { PartitionTable } from './partitions.ts';
import type { ClusterLayout } from './layout.ts';

/** leaderEpoch of a partition a broker holds no state for (its cache was reset and not yet loaded). */
export const NO_STATE_EPOCH = -1;

/**
 * One broker's metadata cache (ZK mode: MetadataCache fed by UpdateMetadata/LeaderAndIsr; KRaft:
 * the MetadataImage the broker has published), as the same struct-of-arrays as a PartitionTable.
 * The broker owns it (ZkBroker.cache, BrokerServer.cache) and reports every batch it puts in it
 * (ObservationChannel.applied) and every reset (cacheReset); observers keep their own view.
 */
export class BrokerMetadataCache extends PartitionTable {
  constructor(
    layout: ClusterLayout,
    readonly brokerId: number,
  ) {
    super(layout);
  }

  /** Whether the cache holds a state for p (false after a reset until p is loaded). */
  has(p: number): boolean {
    return this.leaderEpoch[p]! !== NO_STATE_EPOCH;
  }

  leaderOf(p: number): number {
    return this.leader[p]!;
  }

  leaderEpochOf(p: number): number {
    return this.leaderEpoch[p]!;
  }

  partitionEpochOf(p: number): number {
    return this.partitionEpoch[p]!;
  }

  isrOf(p: number): number {
    return this.isr[p]!;
  }

  /** Empties the cache: every partition has no state (leader -1, epochs -1, empty ISR). */
  clear(): void {
    this.leader.fill(-1);
    this.leaderEpoch.fill(NO_STATE_EPOCH);
    this.partitionEpoch.fill(NO_STATE_EPOCH);
    this.isr.fill(0);
  }
}
