import type { SimNode } from '../../core/index.ts';
import type { ElectionState, QuorumStateListener } from './quorum-state.ts';
import type { RaftSnapshot, RecordBatch } from './types.ts';

/**
 * A state machine fed by a KafkaRaftClient (RaftClient.Listener): the QuorumController on a
 * controller, the MetadataLoader on a broker. Batches arrive in offset order, only once committed
 * (≤ the high watermark), unless `readsUncommitted` (a bug toggle) says otherwise.
 */
export interface RaftListener<P, S> {
  readonly readsUncommitted?: boolean;
  handleCommit(batches: readonly RecordBatch<P>[]): void;
  handleLoadSnapshot(snapshot: RaftSnapshot<S>): void;
  /**
   * The leader of `epoch` is `leaderId` (-1: unknown). For the local node this fires only once the
   * high watermark has passed its epoch start (KafkaRaftClient.maybeFireLeaderChange).
   */
  handleLeaderChange(leaderId: number, epoch: number): void;
}

/** What the invariants see of every Raft node (a test oracle outside the nodes). */
export interface RaftObserver<P> extends QuorumStateListener {
  onElectionState(node: SimNode, state: ElectionState, durable: boolean): void;
  onBecomeLeader(node: SimNode, epoch: number): void;
  onLeaderEnd(node: SimNode, epoch: number): void;
  /** The node's high watermark moved to `hw`; `batches` are the newly committed ones. */
  onHighWatermark(node: SimNode, epoch: number, isLeader: boolean, hw: number, batches: readonly RecordBatch<P>[]): void;
  /** A majority of voters fetched from the leader (check-quorum reset). */
  onMajorityContact(node: SimNode, epoch: number): void;
  /** A follower's fetch timeout expired, or a leader resigned by check-quorum: a failure noticed. */
  onQuorumTimeout(node: SimNode, kind: 'fetch-timeout' | 'check-quorum'): void;
}
