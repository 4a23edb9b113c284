import type { PartitionStateBatch } from '../cluster/partitions.ts';
import type { CostModel } from '../cluster/cost.ts';

/** Broker-level metadata records (metadata/src/main/resources/common/metadata/*Record.json). */
export type BrokerRecord =
  | { readonly type: 'RegisterBrokerRecord'; readonly brokerId: number; readonly brokerEpoch: number; readonly fenced: boolean }
  | { readonly type: 'FenceBrokerRecord'; readonly brokerId: number; readonly brokerEpoch: number }
  | { readonly type: 'UnfenceBrokerRecord'; readonly brokerId: number; readonly brokerEpoch: number }
  | { readonly type: 'BrokerRegistrationChangeRecord'; readonly brokerId: number; readonly brokerEpoch: number; readonly inControlledShutdown: boolean };

/**
 * The records of one metadata record batch (at most 10,000: QuorumController.MAX_RECORDS_PER_BATCH),
 * in a compact form: PartitionChangeRecords as one struct-of-arrays group, broker records as a
 * short list, NoOpRecords as a count. Within a batch the order is: partition changes, then broker
 * records (a FenceBrokerRecord follows the leader moves it causes, as in
 * ReplicationControlManager.handleBrokerFenced), then no-ops — or, with `brokersFirst`, the broker
 * records before the partition changes (handleBrokerUnfenced and handleBrokerInControlledShutdown
 * write the broker's record first, then the leader changes it allows). Control batches carry null.
 */
export interface MetadataRecords {
  readonly partitionChanges: PartitionStateBatch | null;
  readonly brokers: readonly BrokerRecord[];
  readonly noOps: number;
  readonly brokersFirst?: boolean;
}

export type MetadataPayload = MetadataRecords | null;

export const MAX_RECORDS_PER_BATCH = 10_000;

export function recordCount(r: MetadataRecords): number {
  return (r.partitionChanges?.count ?? 0) + r.brokers.length + r.noOps;
}

export function batchBytes(r: MetadataRecords, cost: CostModel['kraft']): number {
  let bytes = cost.batchOverheadBytes + (r.partitionChanges?.count ?? 0) * cost.partitionChangeRecordBytes + r.noOps * cost.noOpRecordBytes;
  for (const b of r.brokers) bytes += b.type === 'RegisterBrokerRecord' ? cost.registerBrokerRecordBytes : cost.fenceBrokerRecordBytes;
  return bytes;
}
