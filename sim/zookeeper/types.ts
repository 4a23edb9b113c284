import type { Message } from '../../core/index.ts';

/**
 * ZooKeeper's vocabulary: zxids, result codes, the operations a client submits, the transactions
 * the leader proposes, and the messages of the client protocol and of ZAB.
 */

/** zxid = (epoch << 32) | counter, as in ZooKeeper (ZxidUtils); exact in a double below epoch 2^21. */
export type Zxid = number;
const TWO_32 = 4_294_967_296;
export const makeZxid = (epoch: number, counter: number): Zxid => epoch * TWO_32 + counter;
export const zxidEpoch = (z: Zxid): number => Math.floor(z / TWO_32);
export const zxidCounter = (z: Zxid): number => z % TWO_32;

/** KeeperException.Code names used here. */
export type Code = 'OK' | 'NONODE' | 'NODEEXISTS' | 'BADVERSION' | 'NOTEMPTY' | 'SESSIONEXPIRED' | 'CONNECTIONLOSS' | 'NOCHILDRENFOREPHEMERALS';

/** -1 in a version field means "any version", as in ZooKeeper. */
export const ANY_VERSION = -1;

/**
 * The leader/ISR state a partition-state znode holds (kafka.zk.TopicPartitionStateZNode). Stored
 * compactly by the data tree (one typed-array slot per partition), so its "path" is the partition.
 */
export interface PartitionStateData {
  readonly leader: number;
  readonly leaderEpoch: number;
  readonly controllerEpoch: number;
  readonly isr: number;
}

/**
 * A chunk of pipelined partition-state writes (the controller's updateLeaderAndIsr calls): entry i is
 * its own multi — CheckOp on `fence` (the controller epoch's zkVersion; null without the fence) and
 * setData of partition[i]'s state at zkVersion version[i] — validated and applied on its own, as if
 * `count` requests had been pipelined `window` at a time (see ARCHITECTURE.md, "ZooKeeper chunks").
 */
export interface PartitionWriteChunk {
  readonly count: number;
  readonly partition: Int32Array;
  readonly leader: Int32Array;
  readonly leaderEpoch: Int32Array;
  readonly isr: Uint8Array;
  /** The zkVersion each entry is conditional on. */
  readonly version: Int32Array;
  readonly controllerEpoch: number;
  readonly fence: { readonly path: string; readonly version: number } | null;
  /** The client's in-flight limit these requests would have been pipelined with. */
  readonly window: number;
  /** Wire bytes of the `count` requests. */
  readonly requestBytes: number;
}

/** Per-entry result codes of a chunk (ChunkResult.code). */
export const CHUNK_OK = 0;
export const CHUNK_BADVERSION = 1;
/** The entry's CheckOp on the fence failed (another controller owns the epoch). */
export const CHUNK_FENCED = 2;
export const CHUNK_NONODE = 3;
export const CHUNK_SESSIONEXPIRED = 4;

/** Operations of a write request; a multi carries several, applied atomically. */
export type Op =
  | { readonly type: 'create'; readonly path: string; readonly data: unknown; readonly dataBytes: number; readonly ephemeral: boolean; readonly sequential: boolean }
  | { readonly type: 'setData'; readonly path: string; readonly data: unknown; readonly dataBytes: number; readonly version: number }
  | { readonly type: 'delete'; readonly path: string; readonly version: number }
  | { readonly type: 'check'; readonly path: string; readonly version: number }
  | { readonly type: 'setPartitionState'; readonly partition: number; readonly state: PartitionStateData; readonly version: number }
  /** A chunk of pipelined conditional partition-state writes, one multi per entry. */
  | { readonly type: 'partitionStates'; readonly chunk: PartitionWriteChunk }
  /** Internal: a server asks the leader to open a session for a connecting client (a txn in ZooKeeper). */
  | { readonly type: 'createSession'; readonly session: number; readonly timeoutMs: number }
  /** A client closes its own session (ZooKeeper.close → ClientCnxn's closeSession request). */
  | { readonly type: 'closeSession' };

export type ReadOp =
  | { readonly type: 'getData'; readonly path: string; readonly watch: boolean }
  | { readonly type: 'exists'; readonly path: string; readonly watch: boolean }
  | { readonly type: 'getChildren'; readonly path: string; readonly watch: boolean }
  | { readonly type: 'getPartitionState'; readonly partition: number }
  /**
   * A chunk of pipelined getData reads of partition-state znodes: served as `partitions.length`
   * reads, `window` in flight at a time (see ARCHITECTURE.md, "ZooKeeper chunks").
   */
  | { readonly type: 'getPartitionStates'; readonly partitions: Int32Array; readonly window: number; readonly requestBytes: number; readonly sync: boolean }
  /** sync(): the server catches up with the leader before answering (the linearizable-read recipe). */
  | { readonly type: 'sync' };

export type Request = { readonly kind: 'write'; readonly ops: readonly Op[] } | { readonly kind: 'read'; readonly op: ReadOp };

export interface Stat {
  readonly czxid: Zxid;
  readonly mzxid: Zxid;
  readonly version: number;
  readonly ephemeralOwner: number;
}

/** What a request gets back. `failedOp` is the index of the first failing op of a multi. */
export interface Response {
  readonly code: Code;
  readonly failedOp?: number;
  readonly data?: unknown;
  readonly dataBytes?: number;
  readonly stat?: Stat;
  readonly children?: readonly string[];
  readonly partitionState?: PartitionStateData & { readonly version: number };
  /** getPartitionStates: the states in request order (version -1: no such znode). */
  readonly partitionStates?: { readonly leader: Int32Array; readonly leaderEpoch: Int32Array; readonly isr: Uint8Array; readonly version: Int32Array };
  /** partitionStates write: each entry's result (CHUNK_OK …) and the zkVersion it wrote. */
  readonly chunkCodes?: Uint8Array;
  /** Paths created by a write (sequential names resolved), in op order. */
  readonly created?: readonly string[];
  /** czxid of each create, in op order (a broker's epoch is its registration's czxid). */
  readonly createdZxids?: readonly Zxid[];
  /** The zxid of the server's state when it answered (reads) or of the txn (writes). */
  readonly zxid: Zxid;
}

/** A resolved, validated change, as the leader's PrepRequestProcessor turns a request into a txn. */
export type TxnOp =
  | { readonly type: 'create'; readonly path: string; readonly data: unknown; readonly dataBytes: number; readonly ephemeralOwner: number }
  | { readonly type: 'setData'; readonly path: string; readonly data: unknown; readonly dataBytes: number; readonly version: number }
  | { readonly type: 'delete'; readonly path: string }
  | { readonly type: 'check'; readonly path: string }
  | { readonly type: 'setPartitionState'; readonly partition: number; readonly state: PartitionStateData; readonly version: number }
  /** A chunk's entries as validated: codes[i] CHUNK_OK entries are applied with zkVersion newVersion[i]. */
  | { readonly type: 'partitionStates'; readonly chunk: PartitionWriteChunk; readonly codes: Uint8Array; readonly newVersion: Int32Array }
  | { readonly type: 'createSession'; readonly session: number; readonly timeoutMs: number }
  | { readonly type: 'closeSession'; readonly session: number }
  | { readonly type: 'error'; readonly code: Code; readonly failedOp: number };

export interface Txn {
  readonly zxid: Zxid;
  readonly session: number;
  /** Client request id, echoed in the response by the server the client is connected to. */
  readonly cxid: number;
  /** Server that received the request (answers the client on commit); -1 for leader-made txns. */
  readonly origin: number;
  readonly ops: readonly TxnOp[];
  readonly sizeBytes: number;
  /** Model-level tag of who wrote it (a controller epoch for Kafka controller writes, else -1). */
  readonly writerEpoch: number;
}

export type WatchEventType = 'NodeCreated' | 'NodeDeleted' | 'NodeDataChanged' | 'NodeChildrenChanged';

// ---- client protocol (ClientCnxn ↔ NIOServerCnxn) ----

export type ZkClientMsg =
  /**
   * `conn` names the connection attempt (the socket): it grows with every attempt of a client, across
   * restarts. An attempt the client gave up on is a closed socket: what comes back on it is never read.
   */
  | { readonly type: 'ConnectRequest'; readonly conn: number; readonly sessionId: number; readonly timeoutMs: number; readonly lastZxidSeen: Zxid; readonly watches: readonly WatchReg[] }
  | { readonly type: 'ConnectResponse'; readonly conn: number; readonly sessionId: number; readonly timeoutMs: number; readonly expired: boolean; readonly pos?: number }
  | { readonly type: 'ZkRequest'; readonly sessionId: number; readonly cxid: number; readonly request: Request; readonly writerEpoch: number }
  | { readonly type: 'ZkResponse'; readonly cxid: number; readonly response: Response; readonly pos?: number }
  | { readonly type: 'ZkPing'; readonly sessionId: number }
  | { readonly type: 'ZkPingResponse'; readonly pos?: number }
  | { readonly type: 'WatcherEvent'; readonly path: string; readonly event: WatchEventType; readonly pos?: number }
  /** The server closed the connection (it stopped serving, or the session was closed). */
  | { readonly type: 'ConnectionClosed'; readonly sessionId: number };

export interface WatchReg {
  readonly path: string;
  readonly kind: 'data' | 'exist' | 'child';
}

export const ZK_CLIENT_MSG_TYPES: ReadonlySet<string> = new Set([
  'ConnectResponse', 'ZkResponse', 'ZkPingResponse', 'WatcherEvent', 'ConnectionClosed',
]);

// ---- quorum protocol (FastLeaderElection, Leader ↔ Learner) ----

export type ServerState = 'LOOKING' | 'FOLLOWING' | 'LEADING';

export interface Vote {
  readonly leader: number;
  readonly zxid: Zxid;
  readonly peerEpoch: number;
}

export type QuorumMsg =
  | { readonly type: 'Notification'; readonly vote: Vote; readonly electionEpoch: number; readonly state: ServerState; readonly sid: number }
  | { readonly type: 'FollowerInfo'; readonly sid: number; readonly acceptedEpoch: number; readonly lastZxid: Zxid; readonly round: number }
  /** `round` names the learner's connection attempt it answers (a new socket in ZooKeeper). */
  | { readonly type: 'NewLeader'; readonly epoch: number; readonly round: number; readonly sync: SyncPayload }
  | { readonly type: 'AckNewLeader'; readonly epoch: number }
  | { readonly type: 'UpToDate'; readonly epoch: number }
  | { readonly type: 'Proposal'; readonly epoch: number; readonly txns: readonly Txn[] }
  | { readonly type: 'Ack'; readonly epoch: number; readonly zxid: Zxid }
  | { readonly type: 'Commit'; readonly epoch: number; readonly zxid: Zxid }
  | { readonly type: 'LeaderPing'; readonly epoch: number }
  /**
   * The quorum socket of learner connection attempt `round` was closed by the sender: a leader that
   * stops leading (Leader.shutdown → LearnerHandler.shutdown closes every learner socket), or a
   * follower that stops following (Follower.shutdown closes its socket to the leader).
   */
  | { readonly type: 'QuorumClose'; readonly round: number }
  | { readonly type: 'LearnerPing'; readonly epoch: number; readonly touches: readonly (readonly [number, number])[] }
  | { readonly type: 'ForwardRequest'; readonly epoch: number; readonly origin: number; readonly sessionId: number; readonly cxid: number; readonly ops: readonly Op[]; readonly writerEpoch: number }
  | { readonly type: 'SyncRequest'; readonly epoch: number; readonly token: number }
  | { readonly type: 'SyncResponse'; readonly epoch: number; readonly token: number };

/**
 * How the leader brings a learner up to date (LearnerHandler.syncFollower): DIFF, the committed txns
 * after `fromZxid`, the learner's last zxid; TRUNC, the learner's log runs past the leader's history
 * or off it, so it first drops every txn after `fromZxid` (a zxid of the leader's committed log), then
 * takes the txns after it; or SNAP, the whole tree.
 */
export type SyncPayload =
  | { readonly kind: 'diff' | 'trunc'; readonly fromZxid: Zxid; readonly txns: readonly Txn[] }
  | { readonly kind: 'snap'; readonly tree: unknown; readonly lastZxid: Zxid; readonly committedCount: number };

export type ZkMsg = ZkClientMsg | QuorumMsg;

export function isZkClientMsg(m: Message): m is ZkClientMsg {
  return ZK_CLIENT_MSG_TYPES.has(m.type);
}
