import { DEFAULT_CONNECTION, type ConnectionConfig, type Message } from '../../core/index.ts';
import { cost } from '../cluster/cost.ts';

/**
 * One record batch of the replicated log (KIP-595: the `__cluster_metadata` partition). It covers
 * offsets [baseOffset, baseOffset + count) and is tagged with the leader epoch that appended it.
 * The payload is whatever the state machine writes (for the metadata log: a compact record
 * group, never an object per record). Batches are immutable and shared by reference between the
 * logs of every node that holds them, the way identical bytes would be.
 */
export interface RecordBatch<P> {
  readonly baseOffset: number;
  readonly count: number;
  readonly epoch: number;
  readonly sizeBytes: number;
  /** Identifies the batch's content: (appending leader, epoch, sequence); equal ⇔ same batch. */
  readonly checksum: number;
  /** Control batches (LeaderChangeMessage) are not handed to the state machine as records. */
  readonly control: boolean;
  readonly records: P;
}

/** A snapshot (KIP-630): the state machine's image at endOffset, taken in `epoch`. */
export interface RaftSnapshot<S> {
  readonly endOffset: number;
  readonly epoch: number;
  readonly sizeBytes: number;
  /** Records in the snapshot (what loading it costs). */
  readonly recordCount: number;
  readonly image: S;
}

export const NO_LEADER = -1;

/** Error codes of the Raft RPCs that this model distinguishes (Kafka's Errors enum names). */
export type RaftError = 'NONE' | 'FENCED_LEADER_EPOCH' | 'NOT_LEADER_OR_FOLLOWER' | 'UNKNOWN_LEADER_EPOCH' | 'INCONSISTENT_VOTER_SET';

export interface VoteRequest extends Message {
  readonly type: 'Vote';
  readonly candidateEpoch: number;
  readonly candidateId: number;
  readonly lastOffsetEpoch: number;
  readonly lastOffset: number;
  /** KIP-996: a pre-vote asks whether the voter would vote, without bumping any epoch. */
  readonly preVote: boolean;
}

export interface VoteResponse extends Message {
  readonly type: 'VoteResponse';
  readonly error: RaftError;
  readonly leaderEpoch: number;
  readonly leaderId: number;
  readonly voteGranted: boolean;
  readonly preVote: boolean;
}

export interface BeginQuorumEpochRequest extends Message {
  readonly type: 'BeginQuorumEpoch';
  readonly leaderEpoch: number;
  readonly leaderId: number;
}

export interface BeginQuorumEpochResponse extends Message {
  readonly type: 'BeginQuorumEpochResponse';
  readonly error: RaftError;
  readonly leaderEpoch: number;
  readonly leaderId: number;
}

export interface EndQuorumEpochRequest extends Message {
  readonly type: 'EndQuorumEpoch';
  readonly leaderEpoch: number;
  readonly leaderId: number;
  /** Voters ordered by how far their log reached: the first one should run first. */
  readonly preferredSuccessors: readonly number[];
}

export interface EndQuorumEpochResponse extends Message {
  readonly type: 'EndQuorumEpochResponse';
  readonly error: RaftError;
  readonly leaderEpoch: number;
  readonly leaderId: number;
}

export interface FetchRequest extends Message {
  readonly type: 'Fetch';
  readonly correlationId: number;
  readonly replicaId: number;
  readonly currentLeaderEpoch: number;
  readonly fetchOffset: number;
  readonly lastFetchedEpoch: number;
  readonly maxWaitMs: number;
}

export interface FetchResponse<P> extends Message {
  readonly type: 'FetchResponse';
  readonly correlationId: number;
  readonly error: RaftError;
  readonly leaderEpoch: number;
  readonly leaderId: number;
  readonly highWatermark: number;
  readonly logStartOffset: number;
  readonly batches: readonly RecordBatch<P>[];
  /** Set when the fetcher's log diverged: truncate to this epoch's end offset. */
  readonly divergingEpoch: { readonly epoch: number; readonly endOffset: number } | null;
  /** Set when the fetch offset is below the log start: fetch this snapshot first (KIP-630). */
  readonly snapshotId: { readonly endOffset: number; readonly epoch: number } | null;
}

export interface FetchSnapshotRequest extends Message {
  readonly type: 'FetchSnapshot';
  readonly correlationId: number;
  readonly replicaId: number;
  readonly currentLeaderEpoch: number;
  readonly snapshotEndOffset: number;
  readonly snapshotEpoch: number;
  readonly position: number;
}

export interface FetchSnapshotResponse<S> extends Message {
  readonly type: 'FetchSnapshotResponse';
  readonly correlationId: number;
  readonly error: RaftError;
  readonly leaderEpoch: number;
  readonly leaderId: number;
  readonly snapshotEndOffset: number;
  readonly position: number;
  readonly chunkBytes: number;
  readonly totalBytes: number;
  /** The snapshot itself, handed over with the last chunk. */
  readonly snapshot: RaftSnapshot<S> | null;
}

export type RaftMessage<P, S> =
  | VoteRequest
  | VoteResponse
  | BeginQuorumEpochRequest
  | BeginQuorumEpochResponse
  | EndQuorumEpochRequest
  | EndQuorumEpochResponse
  | FetchRequest
  | FetchResponse<P>
  | FetchSnapshotRequest
  | FetchSnapshotResponse<S>;

const RAFT_TYPES: ReadonlySet<string> = new Set([
  'Vote', 'VoteResponse', 'BeginQuorumEpoch', 'BeginQuorumEpochResponse', 'EndQuorumEpoch', 'EndQuorumEpochResponse',
  'Fetch', 'FetchResponse', 'FetchSnapshot', 'FetchSnapshotResponse',
]);

export function isRaftMessage(m: Message): m is RaftMessage<unknown, unknown> {
  return RAFT_TYPES.has(m.type);
}


/** The quorum configuration (QuorumConfig) plus the model's switches; every time in ms as Kafka's keys. */
export interface RaftConfig {
  readonly voterIds: readonly number[];
  readonly electionTimeoutMs: number;
  readonly fetchTimeoutMs: number;
  readonly electionBackoffMaxMs: number;
  readonly requestTimeoutMs: number;
  readonly retryBackoffMs: number;
  readonly appendLingerMs: number;
  /** KafkaRaftClient.MAX_FETCH_WAIT_MS: long-poll bound of a Fetch. */
  readonly maxFetchWaitMs: number;
  /** KafkaRaftClient.MAX_FETCH_SIZE_BYTES. */
  readonly maxFetchBytes: number;
  /** FetchSnapshot chunk (KafkaRaftClient.MAX_FETCH_SIZE_BYTES as well). */
  readonly snapshotChunkBytes: number;
  /** The raft NetworkClient's connection settings (KafkaRaftManager.buildNetworkClient). */
  readonly connection: ConnectionConfig;
  /** Bytes of the fixed part of each RPC (request header + fields), for the network: raft.rpc.header.bytes. */
  readonly rpcHeaderBytes: number;
  readonly preVote: boolean;
  readonly bugs: RaftBugs;
}

/** Deliberate departures from KIP-595, to prove the invariants can fail. */
export interface RaftBugs {
  /** KAFKA-15489: the leader never resigns when a majority stops fetching (no check-quorum). */
  readonly noCheckQuorum: boolean;
  /** The HW advances without a record of the leader's own epoch being committed. */
  readonly hwBeforeOwnEpoch: boolean;
  /** A vote is granted without comparing the candidate's log with the voter's. */
  readonly voteWithoutLogCheck: boolean;
  /** The quorum-state file is written without fsync: a crash can forget an epoch or a vote. */
  readonly quorumStateNotFsynced: boolean;
  /** Replicas count (acknowledge) appended data before it is flushed. */
  readonly ackBeforeFlush: boolean;
  /** A voter that already voted in this epoch grants another candidate too. */
  readonly voteTwicePerEpoch: boolean;
  /** The state machine is told of local leadership before the HW passes the epoch start (cf. KAFKA-17333). */
  readonly leaderChangeBeforeCommit: boolean;
}

export const NO_BUGS: RaftBugs = { noCheckQuorum: false, hwBeforeOwnEpoch: false, voteWithoutLogCheck: false, quorumStateNotFsynced: false, ackBeforeFlush: false, voteTwicePerEpoch: false, leaderChangeBeforeCommit: false };

/** Kafka's defaults (QuorumConfig, KafkaRaftClient constants). */
export const DEFAULT_RAFT_CONFIG: Omit<RaftConfig, 'voterIds'> = {
  electionTimeoutMs: 1000,
  fetchTimeoutMs: 2000,
  electionBackoffMaxMs: 1000,
  requestTimeoutMs: 2000,
  retryBackoffMs: 20,
  appendLingerMs: 25,
  maxFetchWaitMs: 500,
  maxFetchBytes: 8 * 1024 * 1024,
  snapshotChunkBytes: 8 * 1024 * 1024,
  // KafkaRaftManager.buildNetworkClient: reconnectBackoffMs = 50, reconnectBackoffMaxMs = 500 (constants,
  // not configs); socket.connection.setup.timeout.ms / .max.ms at their defaults (10 s / 30 s).
  connection: { ...DEFAULT_CONNECTION, reconnectBackoffMs: 50, reconnectBackoffMaxMs: 500 },
  rpcHeaderBytes: cost({}, 'raft.rpc.header.bytes'),
  preVote: false,
  bugs: NO_BUGS,
};
