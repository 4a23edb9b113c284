import { PartitionStateBatch } from '../cluster/partitions.ts';

/** Kafka's control-plane errors in ZK mode. */
export type ControlError = 'NONE' | 'STALE_CONTROLLER_EPOCH' | 'STALE_BROKER_EPOCH' | 'NOT_CONTROLLER';

/** Per-partition errors of AlterPartition (AlterPartitionResponse.json / KafkaController.processAlterPartition). */
export const ALTER_PARTITION_ERRORS = ['NONE', 'FENCED_LEADER_EPOCH', 'INVALID_UPDATE_VERSION', 'INELIGIBLE_REPLICA', 'NOT_LEADER_OR_FOLLOWER'] as const;
export type AlterPartitionError = (typeof ALTER_PARTITION_ERRORS)[number];
/** An AlterPartitionResponse's per-partition error as carried: its index in ALTER_PARTITION_ERRORS. */
export const ALTER_NONE = 0;
export const ALTER_FENCED_LEADER_EPOCH = 1;
export const ALTER_INVALID_UPDATE_VERSION = 2;
export const ALTER_INELIGIBLE_REPLICA = 3;
export const ALTER_NOT_LEADER_OR_FOLLOWER = 4;

/**
 * Controller → broker requests. A big request travels as several messages (chunks of at most
 * 10,000 partition states) back to back on the connection; it is still one request: the broker
 * answers once, after the last chunk, and the send thread waits for that answer.
 */
/**
 * A LeaderAndIsr chunk's states as positions in the UpdateMetadata chunks built in the same
 * sendRequestsToBrokers (every replica's state is also in that list, which every live broker's
 * UpdateMetadata shares): position j is state j % MAX_STATES_PER_CHUNK of chunk j / that. Both are
 * built from the context at once and never written after, so the states read later are the ones
 * sent. The receiver fills a batch from it when its handler reaches the chunk (StatesPool).
 */
export class SharedStates {
  constructor(
    readonly source: readonly PartitionStateBatch[],
    readonly at: Int32Array,
  ) {}

  get count(): number {
    return this.at.length;
  }

  /** The states as a batch: `into` (capacity at least count, overwritten) or a new one. */
  toBatch(into?: PartitionStateBatch): PartitionStateBatch {
    const n = this.at.length;
    const out = into !== undefined && into.capacity >= n ? into : PartitionStateBatch.ofSize(n);
    const src = this.source;
    for (let k = 0; k < n; k++) {
      const j = this.at[k]!;
      const c = src[(j / MAX_STATES_PER_CHUNK) | 0]!;
      const i = j % MAX_STATES_PER_CHUNK;
      out.partition[k] = c.partition[i]!;
      out.leader[k] = c.leader[i]!;
      out.leaderEpoch[k] = c.leaderEpoch[i]!;
      out.partitionEpoch[k] = c.partitionEpoch[i]!;
      out.isr[k] = c.isr[i]!;
    }
    out.count = n;
    return out;
  }
}

/** A control chunk's states: a batch of its own, or positions in batches shared with other requests. */
export type ChunkStates = PartitionStateBatch | SharedStates;

/**
 * Batches a receiver fills from SharedStates chunks and gives back once the chunk is handled
 * (observers read a batch only during the call), so a broker does not allocate one per chunk.
 */
export class StatesPool {
  private readonly free: PartitionStateBatch[] = [];

  /** The states of a chunk as a batch: the chunk's own, or a pooled one filled from it. */
  take(s: ChunkStates): PartitionStateBatch {
    if (!(s instanceof SharedStates)) return s;
    const b = this.free.pop() ?? PartitionStateBatch.ofSize(MAX_STATES_PER_CHUNK);
    return s.toBatch(b);
  }

  /** Gives back a batch take() returned for `s` (no-op when it was the chunk's own). */
  give(s: ChunkStates, b: PartitionStateBatch): void {
    if (s instanceof SharedStates && b.capacity === MAX_STATES_PER_CHUNK) this.free.push(b);
  }
}

export interface ControlChunk {
  readonly controllerId: number;
  readonly controllerEpoch: number;
  /** The controller's view of the target broker's epoch (KIP-380). */
  readonly brokerEpoch: number;
  readonly requestId: number;
  readonly chunkIndex: number;
  readonly chunks: number;
  readonly states: ChunkStates;
}

export type ZkModeMsg =
  | ({ readonly type: 'LeaderAndIsr' } & ControlChunk)
  | ({ readonly type: 'UpdateMetadata'; readonly liveBrokers: readonly number[] } & ControlChunk)
  | { readonly type: 'LeaderAndIsrResponse'; readonly requestId: number; readonly error: ControlError }
  | { readonly type: 'UpdateMetadataResponse'; readonly requestId: number; readonly error: ControlError }
  /**
   * A follower's fetch session with one leader broker (KIP-227 incremental fetch): one message per
   * replica.fetch.wait.max.ms stands for the long-polled fetches of every partition it follows there.
   * Only its arrival matters to the model: it is how a leader knows a follower is caught up.
   */
  | { readonly type: 'Fetch'; readonly brokerId: number }
  /** KIP-497: a leader asks the controller to change the ISR of the partitions it leads (one chunk). */
  | { readonly type: 'AlterPartition'; readonly requestId: number; readonly brokerId: number; readonly brokerEpoch: number; readonly states: PartitionStateBatch }
  /** Top-level error, or per partition: the committed state (partitionEpoch = new zkVersion) or an error (codes: ALTER_*). */
  | { readonly type: 'AlterPartitionResponse'; readonly requestId: number; readonly error: ControlError; readonly states: PartitionStateBatch; readonly errors: Uint8Array }
  | { readonly type: 'ControlledShutdown'; readonly requestId: number; readonly brokerId: number; readonly brokerEpoch: number }
  | { readonly type: 'ControlledShutdownResponse'; readonly requestId: number; readonly error: ControlError; readonly partitionsRemaining: number };

export const ZKMODE_MSG_TYPES: ReadonlySet<string> = new Set([
  'LeaderAndIsr', 'UpdateMetadata', 'LeaderAndIsrResponse', 'UpdateMetadataResponse', 'Fetch',
  'AlterPartition', 'AlterPartitionResponse', 'ControlledShutdown', 'ControlledShutdownResponse',
]);

/** Partition states per message of a LeaderAndIsr / UpdateMetadata request. */
export const MAX_STATES_PER_CHUNK = 10_000;

// Fixed body bytes of the ZK-mode RPCs beyond net.rpc.header.bytes, from Kafka's message schemas
// (clients/src/main/resources/common/message/*.json).
/** LeaderAndIsrResponse / UpdateMetadataResponse / AlterPartitionResponse: ErrorCode 2 + one array length 1 + tags 1. */
export const CONTROL_RESPONSE_BODY_BYTES = 4;
/** ControlledShutdownRequest.json: BrokerId 4 + BrokerEpoch 8 + tags 1. */
export const CONTROLLED_SHUTDOWN_BODY_BYTES = 13;
/** ControlledShutdownResponse.json RemainingPartitions entry: TopicName (2 + ≈ 15) + PartitionIndex 4 + tags 1. */
export const REMAINING_PARTITION_BYTES = 22;
/**
 * Simulator choice: one LeaderAndIsr / UpdateMetadata request travels as several chunk messages; a
 * chunk after the first carries no request header, only the topic-array framing (topic id, array
 * length) of the partitions it starts with ≈ 16 bytes.
 */
export const CONTROL_CHUNK_CONTINUATION_BYTES = 16;
