import type { PartitionStateBatch } from '../cluster/partitions.ts';

/** Kafka's control-plane errors in ZK mode. */
export type ControlError = 'NONE' | 'STALE_CONTROLLER_EPOCH' | 'STALE_BROKER_EPOCH' | 'NOT_CONTROLLER';

/**
 * Controller → broker requests. A big request travels as several messages (chunks of at most
 * 10,000 partition states) back to back on the connection; it is still one request: the broker
 * answers once, after the last chunk, and the send thread waits for that answer.
 */
export interface ControlChunk {
  readonly controllerId: number;
  readonly controllerEpoch: number;
  /** The controller's view of the target broker's epoch (KIP-380). */
  readonly brokerEpoch: number;
  readonly requestId: number;
  readonly chunkIndex: number;
  readonly chunks: number;
  readonly states: PartitionStateBatch;
}

export type ZkModeMsg =
  | ({ readonly type: 'LeaderAndIsr' } & ControlChunk)
  | ({ readonly type: 'UpdateMetadata'; readonly liveBrokers: readonly number[] } & ControlChunk)
  | { readonly type: 'LeaderAndIsrResponse'; readonly requestId: number; readonly error: ControlError }
  | { readonly type: 'UpdateMetadataResponse'; readonly requestId: number; readonly error: ControlError };

export const ZKMODE_MSG_TYPES: ReadonlySet<string> = new Set(['LeaderAndIsr', 'UpdateMetadata', 'LeaderAndIsrResponse', 'UpdateMetadataResponse']);

/** Partition states per message of a LeaderAndIsr / UpdateMetadata request. */
export const MAX_STATES_PER_CHUNK = 10_000;
