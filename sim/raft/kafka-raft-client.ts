import { assertNever, msToUs, type SimNode } from '../../core/index.ts';
import { CandidateState } from './candidate-state.ts';
import { FollowerState } from './follower-state.ts';
import { LeaderState } from './leader-state.ts';
import { ProspectiveState } from './prospective-state.ts';
import { QuorumState } from './quorum-state.ts';
import { RaftLog } from './raft-log.ts';
import type { RaftListener, RaftObserver } from './raft-listener.ts';
import { ResignedState } from './resigned-state.ts';
import { UnattachedState } from './unattached-state.ts';
import { VotedState } from './voted-state.ts';
import {
  NO_LEADER,
  type FetchRequest,
  type FetchResponse,
  type FetchSnapshotRequest,
  type FetchSnapshotResponse,
  type RaftConfig,
  type RaftError,
  type RaftMessage,
  type RaftSnapshot,
  type RecordBatch,
  type VoteRequest,
  type VoteResponse,
} from './types.ts';

/** KafkaRaftClient.RETRY_BACKOFF_BASE_MS of the binary exponential election backoff. */
const RETRY_BACKOFF_BASE_MS = 100;
/** LeaderState.CHECK_QUORUM_TIMEOUT_FACTOR (KAFKA-15489). */
const CHECK_QUORUM_TIMEOUT_FACTOR = 1.5;

interface PendingAppend<P> {
  readonly records: P;
  readonly count: number;
  readonly sizeBytes: number;
}

interface ParkedFetch {
  readonly from: SimNode;
  readonly req: FetchRequest;
  readonly timer: number;
}

interface ListenerSlot<P, S> {
  readonly listener: RaftListener<P, S>;
  nextOffset: number;
  /** (leader, epoch) last told, to fire each change once. */
  toldLeader: number;
  toldEpoch: number;
}

export interface RaftClientOptions<P> {
  readonly config: RaftConfig;
  /** Raft replica id → node (replica id = the node's id). */
  readonly nodeOf: (id: number) => SimNode;
  readonly observer: RaftObserver<P> | null;
  /** Bytes of a control batch (LeaderChangeMessage). */
  readonly controlBatchBytes: number;
  /** Warm start: join a running quorum in this epoch under this leader, committed up to `highWatermark`. */
  readonly warm?: { readonly epoch: number; readonly leaderId: number; readonly epochStartOffset: number; readonly highWatermark: number };
}

/**
 * KafkaRaftClient (KIP-595): elections with Vote, leadership announced with BeginQuorumEpoch and
 * given up with EndQuorumEpoch, the log pulled by followers and observers with Fetch (long poll,
 * DivergingEpoch → truncation, SnapshotId → FetchSnapshot of KIP-630), the high watermark, the
 * leader's check-quorum, and pre-vote (KIP-996) behind `config.preVote`. Every delay is a timer
 * with Kafka's default or an RPC over the network; every log write is fsynced through the node's disk.
 */
export class KafkaRaftClient<P, S> {
  readonly log: RaftLog<P, S>;
  readonly quorum: QuorumState;
  private readonly listeners: ListenerSlot<P, S>[] = [];
  private highWatermark = 0;
  private correlation = 0;
  private inFlight: { id: number; to: number; kind: 'Fetch' | 'FetchSnapshot' } | null = null;
  /**
   * Per destination, the local mono time each request still unanswered was sent at, oldest first,
   * and the timer of the oldest one (NetworkClient's InFlightRequests for the raft channel).
   */
  private readonly unanswered = new Map<number, { sentMonoUs: number[]; timer: number }>();
  private fetchingSnapshot: { endOffset: number; epoch: number; position: number } | null = null;
  private flushingFetch = false;
  private readonly parked = new Map<number, ParkedFetch>();
  private pendingAppends: PendingAppend<P>[] = [];
  private pendingRecords = 0;
  private lingerTimer = -1;
  private appendSeq = 0;
  private leaderFired = false;
  /** Deadline (local mono µs) of the running election timer, kept across Unattached transitions. */
  private electionDeadlineMonoUs = -1;
  private prevStateName = '';
  private discoveryIndex: number;
  private readonly cfg: RaftConfig;
  private readonly majority: number;

  constructor(
    readonly node: SimNode,
    private readonly opts: RaftClientOptions<P>,
  ) {
    this.cfg = opts.config;
    this.majority = Math.floor(this.cfg.voterIds.length / 2) + 1;
    this.log = new RaftLog<P, S>(node);
    this.quorum = new QuorumState(node, node.id, this.cfg.voterIds, !this.cfg.bugs.quorumStateNotFsynced, opts.observer);
    this.discoveryIndex = node.rng.int(this.cfg.voterIds.length);
  }

  get id(): number {
    return this.node.id;
  }

  get epoch(): number {
    return this.quorum.epoch;
  }

  get leaderId(): number {
    return this.quorum.leaderId;
  }

  get hw(): number {
    return this.highWatermark;
  }

  /** The offset the next scheduled record will get (the leader's log end plus lingering appends). */
  get nextAppendOffset(): number {
    return this.log.endOffset + this.pendingRecords;
  }

  /** The leader of this epoch whose state machine may write (HW passed its epoch start). */
  get isActiveLeader(): boolean {
    return this.quorum.isLeader && this.leaderFired;
  }

  register(listener: RaftListener<P, S>): void {
    this.listeners.push({ listener, nextOffset: 0, toldLeader: NO_LEADER - 1, toldEpoch: -1 });
  }

  /** Starts the client: warm (already in a running quorum) or from the persisted quorum state. */
  start(): void {
    const w = this.opts.warm;
    if (w !== undefined) {
      this.highWatermark = w.highWatermark;
      for (const l of this.listeners) l.nextOffset = w.highWatermark;
      const s = this.quorum.initializeWarm(w.epoch, w.leaderId, w.epochStartOffset);
      if (s instanceof LeaderState) {
        for (const v of this.cfg.voterIds) s.endOffsets.set(v, this.log.endOffset);
        s.highWatermark = w.highWatermark;
        this.opts.observer?.onBecomeLeader(this.node, s.epoch);
        this.armLeaderTimers(s);
        this.leaderFired = true;
      }
      this.onEnterState();
      return;
    }
    this.quorum.initialize();
    this.onEnterState();
    this.deliver();
  }

  // ---- the state machine's writes ----

  /**
   * Schedules records for append in the leader's current epoch (RaftClient.scheduleAtomicAppend);
   * returns the offset after the last of them, or -1 if this node is not the active leader of
   * `epoch`. Appends linger for controller.quorum.append.linger.ms and are flushed together.
   */
  scheduleAppend(epoch: number, records: P, count: number, sizeBytes: number): number {
    const s = this.quorum.state;
    if (!(s instanceof LeaderState) || s.epoch !== epoch || !this.leaderFired) return -1;
    this.pendingAppends.push({ records, count, sizeBytes });
    this.pendingRecords += count;
    if (this.lingerTimer < 0) {
      this.lingerTimer = this.node.setTimer('raft.append-linger', msToUs(this.cfg.appendLingerMs), () => this.drainAppends());
      s.timers.push(this.lingerTimer);
    }
    return this.log.endOffset + this.pendingRecords;
  }

  private drainAppends(): void {
    this.lingerTimer = -1;
    const s = this.quorum.state;
    if (!(s instanceof LeaderState)) return;
    let bytes = 0;
    for (const a of this.pendingAppends) {
      this.appendAsLeader(s, a.records, a.count, a.sizeBytes, false);
      bytes += a.sizeBytes;
    }
    this.pendingAppends = [];
    this.pendingRecords = 0;
    this.flushLeaderLog(s, bytes);
  }

  private appendAsLeader(s: LeaderState, records: P, count: number, sizeBytes: number, control: boolean): void {
    const checksum = ((this.id + 1) * 1_000_003 + s.epoch * 7919 + this.appendSeq++ * 104_729) % 2_147_483_647;
    this.log.append({ baseOffset: this.log.endOffset, count, epoch: s.epoch, sizeBytes, checksum, control, records });
    this.completeParkedFetches();
  }

  private flushLeaderLog(s: LeaderState, bytes: number): void {
    if (this.cfg.bugs.ackBeforeFlush) this.onLeaderEndOffset(s, this.log.endOffset);
    this.node.fsync('raft.flush', bytes, () => {
      if (this.quorum.state === s) this.onLeaderEndOffset(s, this.log.flushedEndOffset);
    });
  }

  private onLeaderEndOffset(s: LeaderState, endOffset: number): void {
    if (s.updateEndOffset(this.id, endOffset, this.cfg.bugs.hwBeforeOwnEpoch)) this.onHighWatermarkChange(s.highWatermark);
  }

  // ---- snapshots ----

  /** Stores a snapshot taken by the state machine, then deletes the log below it once it is durable. */
  createSnapshot(snapshot: RaftSnapshot<S>, retentionBytes: number): void {
    this.log.storeSnapshot(snapshot);
    this.node.fsync('raft.snapshot', snapshot.sizeBytes, () => {
      if (this.logBytes() > retentionBytes) this.log.deletePrefixBefore(snapshot.endOffset);
    });
  }

  private logBytes(): number {
    let b = 0;
    for (const x of this.log.batches) b += x.sizeBytes;
    return b;
  }

  // ---- state entry: timers and first actions ----

  private onEnterState(): void {
    const s = this.quorum.state;
    const voter = this.quorum.isVoter;
    if (s instanceof LeaderState) {
      // Already armed by becomeLeader / warm start.
    } else if (s instanceof FollowerState) {
      this.armFetchTimer(s);
      this.sendFetch();
    } else if (s instanceof UnattachedState || s instanceof VotedState) {
      if (voter) {
        // QuorumState.transitionToUnattached keeps the remaining election time of an Unattached or
        // Candidate node: a stale candidate's higher epoch must not keep resetting everyone's timer.
        const keep = s instanceof UnattachedState && (this.prevStateName === 'Unattached' || this.prevStateName === 'Voted' || this.prevStateName === 'Candidate') && this.electionDeadlineMonoUs >= 0;
        const delayUs = keep ? Math.max(0, this.electionDeadlineMonoUs - this.node.monoNowUs) : this.randomElectionTimeoutUs();
        this.armElectionTimer(s, delayUs, () => this.startElection(0));
      } else this.discoverLeader();
    } else if (s instanceof ResignedState) {
      this.armElectionTimer(s, this.randomElectionTimeoutUs(), () => this.startElection(0));
      for (const v of s.unackedVoters) this.request(v, { type: 'EndQuorumEpoch', leaderEpoch: s.epoch, leaderId: this.id, preferredSuccessors: s.preferredSuccessors }, this.cfg.rpcHeaderBytes);
    } else if (s instanceof CandidateState || s instanceof ProspectiveState) {
      // Armed by startElection.
    }
    this.notifyLeaderChange();
  }

  private armElectionTimer(s: { timers: number[] }, delayUs: number, fn: () => void): void {
    this.electionDeadlineMonoUs = this.node.monoNowUs + delayUs;
    s.timers.push(this.node.setTimer('raft.election-timeout', delayUs, fn));
  }

  /** QuorumState.randomElectionTimeoutMs: uniform in [T, 2T) from the node's own random stream. */
  private randomElectionTimeoutUs(): number {
    const t = this.cfg.electionTimeoutMs;
    return msToUs(t + this.node.rng.int(t));
  }

  /** binaryExponentialElectionBackoffMs: 100 ms × U{0 … 2^(min(20, retries−1)+1) − 1}, capped. */
  private electionBackoffUs(retries: number): number {
    const bound = 2 << Math.min(20, Math.max(0, retries - 1));
    return msToUs(Math.min(RETRY_BACKOFF_BASE_MS * this.node.rng.int(bound), this.cfg.electionBackoffMaxMs));
  }

  private armFetchTimer(s: FollowerState, timeoutMs = this.cfg.fetchTimeoutMs): void {
    if (s.fetchTimer >= 0) this.node.cancelTimer(s.fetchTimer);
    s.fetchTimer = this.node.setTimer('raft.fetch-timeout', msToUs(timeoutMs), () => {
      s.fetchTimer = -1;
      if (this.quorum.state !== s) return;
      this.node.note('raft.fetch-timeout', s.epoch);
      this.opts.observer?.onQuorumTimeout(this.node, 'fetch-timeout');
      if (this.quorum.isVoter) this.startElection(0);
      else this.transitionTo(() => this.quorum.transitionToUnattached(s.epoch));
    });
    s.timers.push(s.fetchTimer);
  }

  private transitionTo(fn: () => unknown): void {
    const wasLeader = this.quorum.state instanceof LeaderState ? this.quorum.state.epoch : -1;
    this.prevStateName = this.quorum.state.name;
    this.abandonFetch();
    const parked = [...this.parked.values()];
    for (const p of parked) this.node.cancelTimer(p.timer);
    this.parked.clear();
    this.pendingAppends = [];
    this.pendingRecords = 0;
    this.lingerTimer = -1;
    fn();
    // fetchPurgatory.completeAllExceptionally: a leader that steps down answers its parked fetches
    // with NOT_LEADER_OR_FOLLOWER (and the new epoch) instead of leaving them to time out.
    for (const p of parked) this.sendFetchResponse(p.from, p.req, 'NOT_LEADER_OR_FOLLOWER', [], null, null);
    if (wasLeader >= 0) {
      this.leaderFired = false;
      this.opts.observer?.onLeaderEnd(this.node, wasLeader);
    }
    this.onEnterState();
  }

  private abandonFetch(): void {
    this.inFlight = null;
    this.fetchingSnapshot = null;
  }

  // ---- elections ----

  /** An expired election or fetch timeout: pre-vote first if enabled (KIP-996), else run. */
  private startElection(retries: number): void {
    if (this.cfg.preVote) {
      this.transitionTo(() => this.quorum.transitionToProspective(retries + 1));
      this.runElection(this.quorum.state as ProspectiveState, true);
    } else {
      this.transitionTo(() => this.quorum.transitionToCandidate(retries + 1));
      this.runElection(this.quorum.state as CandidateState, false);
    }
  }

  private runElection(s: CandidateState | ProspectiveState, preVote: boolean): void {
    if (s.won) return this.electionWon(s);
    this.armElectionTimer(s, this.randomElectionTimeoutUs(), () => this.electionFailed(s));
    for (const v of this.cfg.voterIds) if (v !== this.id) this.sendVote(s, v);
  }

  private sendVote(s: CandidateState | ProspectiveState, to: number): void {
    const req: VoteRequest = { type: 'Vote', candidateEpoch: s.epoch, candidateId: this.id, lastOffsetEpoch: this.log.lastEpoch, lastOffset: this.log.endOffset, preVote: s instanceof ProspectiveState };
    this.request(to, req, this.cfg.rpcHeaderBytes);
  }

  private electionWon(s: CandidateState | ProspectiveState): void {
    if (s instanceof ProspectiveState) {
      this.transitionTo(() => this.quorum.transitionToCandidate(s.retries));
      this.runElection(this.quorum.state as CandidateState, false);
      return;
    }
    this.becomeLeader(s);
  }

  private electionFailed(s: CandidateState | ProspectiveState): void {
    if (this.quorum.state !== s) return;
    if (s instanceof ProspectiveState) {
      // Back to where it was; its timers start over (KIP-996).
      if (s.leaderId !== NO_LEADER) this.transitionTo(() => this.quorum.transitionToFollower(s.epoch, s.leaderId));
      else this.transitionTo(() => this.quorum.transitionToUnattached(s.epoch));
      return;
    }
    if (s.backingOff) return;
    s.backingOff = true;
    s.timers.push(this.node.setTimer('raft.election-backoff', this.electionBackoffUs(s.retries), () => {
      if (this.quorum.state === s) this.startElection(s.retries);
    }));
  }

  private becomeLeader(s: CandidateState): void {
    const epochStartOffset = this.log.endOffset;
    this.transitionTo(() => this.quorum.transitionToLeader(epochStartOffset));
    const leader = this.quorum.state as LeaderState;
    this.node.note('raft.leader', leader.epoch);
    this.opts.observer?.onBecomeLeader(this.node, leader.epoch);
    // LeaderState.appendStartOfEpochControlRecords: the LeaderChangeMessage opens the epoch.
    this.appendAsLeader(leader, this.controlRecords(), 1, this.opts.controlBatchBytes, true);
    this.flushLeaderLog(leader, this.opts.controlBatchBytes);
    this.armLeaderTimers(leader);
    this.sendBeginQuorumEpoch(leader);
    void s;
    if (this.cfg.bugs.leaderChangeBeforeCommit) {
      this.leaderFired = true;
      this.notifyLeaderChange();
    }
  }

  private controlRecords(): P {
    return null as P;
  }

  private armLeaderTimers(s: LeaderState): void {
    this.resetCheckQuorum(s);
  }

  private resetCheckQuorum(s: LeaderState): void {
    if (s.checkQuorumTimer >= 0) this.node.cancelTimer(s.checkQuorumTimer);
    s.checkQuorumTimer = this.node.setTimer('raft.check-quorum', msToUs(this.cfg.fetchTimeoutMs * CHECK_QUORUM_TIMEOUT_FACTOR), () => {
      s.checkQuorumTimer = -1;
      if (this.quorum.state !== s) return;
      // KAFKA-15489: without check-quorum a leader cut off from the majority leads on forever.
      if (this.cfg.bugs.noCheckQuorum) return;
      this.node.note('raft.check-quorum-resign', s.epoch);
      this.opts.observer?.onQuorumTimeout(this.node, 'check-quorum');
      this.transitionTo(() => this.quorum.transitionToResigned(s.successors()));
    });
    s.timers.push(s.checkQuorumTimer);
  }

  private sendBeginQuorumEpoch(s: LeaderState): void {
    if (this.quorum.state !== s) return;
    for (const v of s.unackedBeginQuorum) this.request(v, { type: 'BeginQuorumEpoch', leaderEpoch: s.epoch, leaderId: this.id }, this.cfg.rpcHeaderBytes);
    // Resent until acknowledged, every fetch timeout / 2 (LeaderState).
    if (s.unackedBeginQuorum.size > 0) s.timers.push(this.node.setTimer('raft.begin-quorum-resend', msToUs(this.cfg.fetchTimeoutMs / 2), () => this.sendBeginQuorumEpoch(s)));
  }

  /**
   * KafkaRaftClient.maybeTransition: a message from a higher epoch (or naming this epoch's leader
   * while the node does not know it) moves the node to that epoch. Returns true if it moved.
   */
  private maybeTransition(epoch: number, leaderId: number): boolean {
    const s = this.quorum.state;
    if (epoch > s.epoch) {
      if (leaderId !== NO_LEADER && leaderId !== this.id) this.transitionTo(() => this.quorum.transitionToFollower(epoch, leaderId));
      else this.transitionTo(() => this.quorum.transitionToUnattached(epoch));
      return true;
    }
    if (epoch === s.epoch && leaderId !== NO_LEADER && leaderId !== this.id && s.leaderId === NO_LEADER && !(s instanceof ResignedState) && !(s instanceof LeaderState)) {
      this.transitionTo(() => this.quorum.transitionToFollower(epoch, leaderId));
      return true;
    }
    return false;
  }

  private handleVote(from: SimNode, req: VoteRequest): void {
    const reply = (granted: boolean): void => {
      const r: VoteResponse = { type: 'VoteResponse', error: 'NONE', leaderEpoch: this.epoch, leaderId: this.leaderId, voteGranted: granted, preVote: req.preVote };
      this.send(from.id, r, this.cfg.rpcHeaderBytes);
    };
    if (!this.quorum.isVoter) return reply(false);
    if (req.candidateEpoch < this.epoch) return reply(false);
    const logOk = this.cfg.bugs.voteWithoutLogCheck || this.logUpToDate(req.lastOffsetEpoch, req.lastOffset);
    if (req.preVote) {
      if (req.candidateEpoch > this.epoch) this.transitionTo(() => this.quorum.transitionToUnattached(req.candidateEpoch));
      const s = this.quorum.state;
      // KIP-996: a voter still in touch with a leader refuses; nobody changes state for a pre-vote.
      const inTouch = s instanceof LeaderState || (s instanceof FollowerState && s.lastFetchSuccessMonoUs >= 0 && this.node.monoNowUs - s.lastFetchSuccessMonoUs < msToUs(this.cfg.fetchTimeoutMs));
      return reply(logOk && !inTouch);
    }
    if (req.candidateEpoch > this.epoch) this.transitionTo(() => this.quorum.transitionToUnattached(req.candidateEpoch));
    const s = this.quorum.state;
    if (s instanceof VotedState) return reply(s.votedId === req.candidateId || (this.cfg.bugs.voteTwicePerEpoch && logOk));
    if (s instanceof UnattachedState && logOk) {
      this.transitionTo(() => this.quorum.transitionToVoted(req.candidateEpoch, req.candidateId));
      return reply(true);
    }
    reply(false);
  }

  /** Vote only for a log at least as up to date: compare last epoch, then end offset. */
  private logUpToDate(lastEpoch: number, endOffset: number): boolean {
    const mine = this.log.lastEpoch;
    return lastEpoch > mine || (lastEpoch === mine && endOffset >= this.log.endOffset);
  }

  private handleVoteResponse(from: SimNode, r: VoteResponse): void {
    if (this.maybeTransition(r.leaderEpoch, r.leaderId)) return;
    const s = this.quorum.state;
    if (!(s instanceof CandidateState || s instanceof ProspectiveState) || r.preVote !== (s instanceof ProspectiveState)) return;
    if (r.leaderEpoch !== s.epoch) return;
    if (r.voteGranted) s.granted.add(from.id);
    else s.rejected.add(from.id);
    if (s.won) this.electionWon(s);
    else if (s.lost) this.electionFailed(s);
  }

  private handleBeginQuorumEpoch(from: SimNode, leaderEpoch: number, leaderId: number): void {
    const reply = (error: RaftError): void => this.send(from.id, { type: 'BeginQuorumEpochResponse', error, leaderEpoch: this.epoch, leaderId: this.leaderId }, this.cfg.rpcHeaderBytes);
    if (leaderEpoch < this.epoch) return reply('FENCED_LEADER_EPOCH');
    this.maybeTransition(leaderEpoch, leaderId);
    reply('NONE');
  }

  private handleEndQuorumEpoch(from: SimNode, leaderEpoch: number, leaderId: number, successors: readonly number[]): void {
    this.send(from.id, { type: 'EndQuorumEpochResponse', error: 'NONE', leaderEpoch: this.epoch, leaderId: this.leaderId }, this.cfg.rpcHeaderBytes);
    const s = this.quorum.state;
    if (!(s instanceof FollowerState) || s.epoch !== leaderEpoch || s.leaderId !== leaderId || !this.quorum.isVoter) return;
    // The resigned leader's preferred successors run first: strict exponential steps by position.
    const pos = successors.indexOf(this.id);
    const backoffMs = pos <= 0 ? 0 : Math.min(this.cfg.electionBackoffMaxMs, (this.cfg.electionBackoffMaxMs >> (successors.length - 1)) << (pos - 1));
    this.armFetchTimer(s, backoffMs);
  }

  // ---- fetching (followers and observers) ----

  private discoverLeader(): void {
    const voters = this.cfg.voterIds;
    const target = voters[this.discoveryIndex++ % voters.length]!;
    this.sendFetchTo(target);
  }

  private sendFetch(): void {
    const s = this.quorum.state;
    if (!(s instanceof FollowerState) || this.inFlight !== null || this.flushingFetch) return;
    if (this.fetchingSnapshot !== null) return this.sendFetchSnapshot();
    this.sendFetchTo(s.leaderId);
  }

  private sendFetchTo(target: number): void {
    const id = ++this.correlation;
    const req: FetchRequest = {
      type: 'Fetch', correlationId: id, replicaId: this.id, currentLeaderEpoch: this.epoch,
      fetchOffset: this.log.endOffset, lastFetchedEpoch: this.log.lastEpoch, maxWaitMs: this.cfg.maxFetchWaitMs,
    };
    this.inFlight = { id, to: target, kind: 'Fetch' };
    this.request(target, req, this.cfg.rpcHeaderBytes);
  }

  private retryFetchLater(): void {
    const s = this.quorum.state;
    s.timers.push(this.node.setTimer('raft.fetch-retry', msToUs(this.cfg.retryBackoffMs), () => {
      if (this.quorum.state !== s || this.inFlight !== null) return;
      if (s instanceof FollowerState) this.sendFetch();
      else if (s instanceof UnattachedState && !this.quorum.isVoter) this.discoverLeader();
    }));
  }

  private handleFetch(from: SimNode, req: FetchRequest): void {
    const s = this.quorum.state;
    if (!(s instanceof LeaderState) || req.currentLeaderEpoch > s.epoch) {
      const error: RaftError = req.currentLeaderEpoch < this.epoch ? 'FENCED_LEADER_EPOCH' : req.currentLeaderEpoch > this.epoch ? 'UNKNOWN_LEADER_EPOCH' : 'NOT_LEADER_OR_FOLLOWER';
      return this.sendFetchResponse(from, req, error, [], null, null);
    }
    if (req.currentLeaderEpoch < s.epoch) return this.sendFetchResponse(from, req, 'FENCED_LEADER_EPOCH', [], null, null);
    const log = this.log;
    const snap = log.snapshot;
    if (req.fetchOffset < log.startOffset && snap !== undefined) {
      return this.sendFetchResponse(from, req, 'NONE', [], null, { endOffset: snap.endOffset, epoch: snap.epoch });
    }
    // Validate the fetcher's log against ours (KIP-595 DivergingEpoch).
    if (req.fetchOffset > 0 && req.lastFetchedEpoch >= 0) {
      const end = log.endOffsetForEpoch(req.lastFetchedEpoch);
      if (end.epoch !== req.lastFetchedEpoch || end.endOffset < req.fetchOffset) {
        if (end.epoch < 0 && snap !== undefined) return this.sendFetchResponse(from, req, 'NONE', [], null, { endOffset: snap.endOffset, epoch: snap.epoch });
        return this.sendFetchResponse(from, req, 'NONE', [], { epoch: end.epoch, endOffset: end.endOffset }, null);
      }
    }
    if (s.endOffsets.has(req.replicaId)) {
      s.unackedBeginQuorum.delete(req.replicaId);
      if (s.recordFetch(req.replicaId)) {
        this.resetCheckQuorum(s);
        this.opts.observer?.onMajorityContact(this.node, s.epoch);
      }
      if (s.updateEndOffset(req.replicaId, req.fetchOffset, this.cfg.bugs.hwBeforeOwnEpoch)) this.onHighWatermarkChange(s.highWatermark);
    }
    if (req.fetchOffset >= log.endOffset && req.maxWaitMs > 0) {
      // Long poll: answer when data arrives, the HW moves, or MAX_FETCH_WAIT_MS passes.
      const old = this.parked.get(from.id);
      if (old !== undefined) this.node.cancelTimer(old.timer);
      const timer = this.node.setTimer('raft.fetch-wait', msToUs(req.maxWaitMs), () => {
        if (this.parked.get(from.id)?.req !== req) return;
        this.parked.delete(from.id);
        this.answerFetch(from, req);
      });
      s.timers.push(timer);
      this.parked.set(from.id, { from, req, timer });
      return;
    }
    this.answerFetch(from, req);
  }

  private answerFetch(from: SimNode, req: FetchRequest): void {
    const batches = this.log.read(req.fetchOffset, Number.MAX_SAFE_INTEGER, this.cfg.maxFetchBytes);
    this.sendFetchResponse(from, req, 'NONE', batches, null, null);
  }

  private completeParkedFetches(): void {
    if (this.parked.size === 0) return;
    const all = [...this.parked.values()];
    this.parked.clear();
    for (const p of all) {
      this.node.cancelTimer(p.timer);
      this.answerFetch(p.from, p.req);
    }
  }

  private sendFetchResponse(to: SimNode, req: FetchRequest, error: RaftError, batches: readonly RecordBatch<P>[], divergingEpoch: FetchResponse<P>['divergingEpoch'], snapshotId: FetchResponse<P>['snapshotId']): void {
    let bytes = this.cfg.rpcHeaderBytes;
    for (const b of batches) bytes += b.sizeBytes;
    const r: FetchResponse<P> = {
      type: 'FetchResponse', correlationId: req.correlationId, error, leaderEpoch: this.epoch, leaderId: this.leaderId,
      highWatermark: this.quorum.isLeader ? Math.max(0, (this.quorum.state as LeaderState).highWatermark) : this.highWatermark,
      logStartOffset: this.log.startOffset, batches, divergingEpoch, snapshotId,
    };
    this.send(to.id, r, bytes);
  }

  private handleFetchResponse(from: SimNode, r: FetchResponse<P>): void {
    if (this.inFlight?.id !== r.correlationId) return;
    this.inFlight = null;
    if (r.error !== 'NONE') {
      if (!this.maybeTransition(r.leaderEpoch, r.leaderId)) this.retryFetchLater();
      return;
    }
    if (this.maybeTransition(r.leaderEpoch, r.leaderId)) return;
    const s = this.quorum.state;
    if (!(s instanceof FollowerState) || s.leaderId !== from.id || r.leaderEpoch !== s.epoch) return this.retryFetchLater();
    s.lastFetchSuccessMonoUs = this.node.monoNowUs;
    this.armFetchTimer(s);
    if (r.divergingEpoch !== null) {
      const mine = this.log.endOffsetForEpoch(r.divergingEpoch.epoch);
      const to = Math.min(mine.endOffset, r.divergingEpoch.endOffset);
      this.node.note('raft.truncate', to);
      this.log.truncateTo(to);
      this.onTruncated();
      return this.sendFetch();
    }
    if (r.snapshotId !== null) {
      this.fetchingSnapshot = { endOffset: r.snapshotId.endOffset, epoch: r.snapshotId.epoch, position: 0 };
      return this.sendFetch();
    }
    let bytes = 0;
    for (const b of r.batches) {
      if (b.baseOffset < this.log.endOffset) continue;
      this.log.append(b);
      bytes += b.sizeBytes;
    }
    this.updateFollowerHighWatermark(s, r.highWatermark);
    if (bytes === 0) return this.sendFetch();
    // The next fetch offset acknowledges the data: flush it first (unless the bug says otherwise).
    if (this.cfg.bugs.ackBeforeFlush) {
      this.node.fsync('raft.flush', bytes);
      return this.sendFetch();
    }
    this.flushingFetch = true;
    this.node.fsync('raft.flush', bytes, () => {
      this.flushingFetch = false;
      this.sendFetch();
    });
  }

  private updateFollowerHighWatermark(s: FollowerState, leaderHw: number): void {
    const hw = Math.min(leaderHw, this.log.endOffset);
    if (hw > this.highWatermark) {
      const old = this.highWatermark;
      this.highWatermark = hw;
      s.highWatermark = hw;
      this.onHighWatermarkChange(hw, old);
    }
  }

  private onTruncated(): void {
    const end = this.log.endOffset;
    for (const l of this.listeners) if (l.nextOffset > end) l.nextOffset = end;
  }

  private sendFetchSnapshot(): void {
    const s = this.quorum.state;
    const f = this.fetchingSnapshot;
    if (!(s instanceof FollowerState) || f === null) return;
    const id = ++this.correlation;
    const req: FetchSnapshotRequest = { type: 'FetchSnapshot', correlationId: id, replicaId: this.id, currentLeaderEpoch: s.epoch, snapshotEndOffset: f.endOffset, snapshotEpoch: f.epoch, position: f.position };
    this.inFlight = { id, to: s.leaderId, kind: 'FetchSnapshot' };
    this.request(s.leaderId, req, this.cfg.rpcHeaderBytes);
  }

  private handleFetchSnapshot(from: SimNode, req: FetchSnapshotRequest): void {
    const s = this.quorum.state;
    const snap = this.log.snapshot;
    const base = { type: 'FetchSnapshotResponse' as const, correlationId: req.correlationId, leaderEpoch: this.epoch, leaderId: this.leaderId, snapshotEndOffset: req.snapshotEndOffset, position: req.position };
    if (!(s instanceof LeaderState) || req.currentLeaderEpoch !== s.epoch || snap === undefined || snap.endOffset !== req.snapshotEndOffset) {
      const error: RaftError = s instanceof LeaderState && req.currentLeaderEpoch === s.epoch ? 'UNKNOWN_LEADER_EPOCH' : req.currentLeaderEpoch < this.epoch ? 'FENCED_LEADER_EPOCH' : 'NOT_LEADER_OR_FOLLOWER';
      const r: FetchSnapshotResponse<S> = { ...base, error, chunkBytes: 0, totalBytes: 0, snapshot: null };
      return this.send(from.id, r, this.cfg.rpcHeaderBytes);
    }
    // KafkaRaftClient.handleFetchSnapshotRequest counts a FetchSnapshot for check-quorum too.
    if (s.endOffsets.has(req.replicaId) && s.recordFetch(req.replicaId)) {
      this.resetCheckQuorum(s);
      this.opts.observer?.onMajorityContact(this.node, s.epoch);
    }
    const chunk = Math.min(this.cfg.snapshotChunkBytes, snap.sizeBytes - req.position);
    const last = req.position + chunk >= snap.sizeBytes;
    const r: FetchSnapshotResponse<S> = { ...base, error: 'NONE', chunkBytes: chunk, totalBytes: snap.sizeBytes, snapshot: last ? snap : null };
    this.send(from.id, r, this.cfg.rpcHeaderBytes + chunk);
  }

  private handleFetchSnapshotResponse(r: FetchSnapshotResponse<S>): void {
    if (this.inFlight?.id !== r.correlationId) return;
    this.inFlight = null;
    const s = this.quorum.state;
    const f = this.fetchingSnapshot;
    if (r.error !== 'NONE' || f === null || !(s instanceof FollowerState)) {
      this.fetchingSnapshot = null;
      if (!this.maybeTransition(r.leaderEpoch, r.leaderId)) this.retryFetchLater();
      return;
    }
    s.lastFetchSuccessMonoUs = this.node.monoNowUs;
    this.armFetchTimer(s);
    f.position += r.chunkBytes;
    if (r.snapshot === null) return this.sendFetch();
    const snap = r.snapshot;
    this.fetchingSnapshot = null;
    this.node.note('raft.snapshot-installed', snap.endOffset);
    this.log.installSnapshot(snap);
    this.onTruncated();
    this.flushingFetch = true;
    this.node.fsync('raft.snapshot', snap.sizeBytes, () => {
      this.flushingFetch = false;
      if (this.highWatermark < snap.endOffset) this.highWatermark = snap.endOffset;
      this.deliver();
      this.sendFetch();
    });
  }

  // ---- the high watermark and the state machine ----

  private onHighWatermarkChange(hw: number, old = this.highWatermark): void {
    const s = this.quorum.state;
    const isLeader = s instanceof LeaderState;
    if (isLeader) this.highWatermark = hw;
    const batches = hw > old ? this.log.read(old, hw, Number.MAX_SAFE_INTEGER) : [];
    this.node.note('raft.hw', hw);
    this.opts.observer?.onHighWatermark(this.node, s.epoch, isLeader, hw, batches);
    this.deliver();
    if (s instanceof LeaderState) {
      this.completeParkedFetches();
      if (!this.leaderFired && hw > s.epochStartOffset) {
        this.leaderFired = true;
        this.notifyLeaderChange();
      }
    }
  }

  /** Hands committed batches (and a snapshot, if the listener is behind the log start) to listeners. */
  private deliver(): void {
    const log = this.log;
    for (const l of this.listeners) {
      if (l.nextOffset < log.startOffset) {
        const snap = log.snapshot;
        if (snap === undefined) continue;
        l.listener.handleLoadSnapshot(snap);
        l.nextOffset = snap.endOffset;
      }
      const upTo = l.listener.readsUncommitted === true ? log.endOffset : Math.min(this.highWatermark, log.endOffset);
      if (upTo <= l.nextOffset) continue;
      const batches = log.read(l.nextOffset, upTo, Number.MAX_SAFE_INTEGER).filter((b) => b.baseOffset + b.count <= upTo && b.baseOffset >= l.nextOffset);
      if (batches.length === 0) continue;
      l.nextOffset = batches[batches.length - 1]!.baseOffset + batches[batches.length - 1]!.count;
      l.listener.handleCommit(batches);
    }
  }

  private notifyLeaderChange(): void {
    const s = this.quorum.state;
    let leader = s.leaderId;
    if (s instanceof LeaderState && !this.leaderFired) leader = NO_LEADER;
    for (const l of this.listeners) {
      if (l.toldLeader === leader && l.toldEpoch === s.epoch) continue;
      l.toldLeader = leader;
      l.toldEpoch = s.epoch;
      l.listener.handleLeaderChange(leader, s.epoch);
    }
  }

  // ---- messages ----

  /** A response: it goes back on the connection its request came in on. */
  private send(to: number, msg: RaftMessage<P, S>, bytes: number): void {
    this.node.send(this.opts.nodeOf(to), msg, bytes);
  }

  /**
   * A request, on this node's raft connection to `to` (KafkaNetworkChannel → the raft NetworkClient,
   * opened on demand). NetworkClient.handleTimedOutRequests: when the oldest unanswered request to
   * a node is older than controller.quorum.request.timeout.ms the connection is closed, and what it
   * carried — that request and any after it, either way — is lost.
   */
  private request(to: number, msg: RaftMessage<P, S>, bytes: number): void {
    this.node.connection(this.opts.nodeOf(to), 'raft', this.cfg.connection).send(msg, bytes);
    let u = this.unanswered.get(to);
    if (u === undefined) this.unanswered.set(to, (u = { sentMonoUs: [], timer: -1 }));
    u.sentMonoUs.push(this.node.monoNowUs);
    if (u.sentMonoUs.length === 1) this.armRequestTimeout(to, u);
  }

  private armRequestTimeout(to: number, u: { sentMonoUs: number[]; timer: number }): void {
    const dueUs = u.sentMonoUs[0]! + msToUs(this.cfg.requestTimeoutMs) - this.node.monoNowUs;
    u.timer = this.node.setTimer('raft.request-timeout', Math.max(0, dueUs), () => {
      u.timer = -1;
      u.sentMonoUs.length = 0;
      this.node.note('raft.request-timeout', to);
      this.node.connection(this.opts.nodeOf(to), 'raft', this.cfg.connection).expire();
      this.onRequestsLost(to);
    });
  }

  /** A response from `to` answers the oldest request to it (one connection, answered in order). */
  private answered(to: number): void {
    const u = this.unanswered.get(to);
    if (u === undefined || u.sentMonoUs.length === 0) return;
    u.sentMonoUs.shift();
    this.node.cancelTimer(u.timer);
    u.timer = -1;
    if (u.sentMonoUs.length > 0) this.armRequestTimeout(to, u);
  }

  /**
   * The requests to `to` failed with the connection (RequestManager.onResponseResult, not
   * successful): a fetch is retried after controller.quorum.retry.backoff.ms, and a candidate sends
   * its Vote again to a voter it has no answer from (KafkaRaftClient.maybeSendVoteRequests).
   * BeginQuorumEpoch has its own resend timer.
   */
  private onRequestsLost(to: number): void {
    if (this.inFlight?.to === to) {
      this.inFlight = null;
      this.retryFetchLater();
    }
    const s = this.quorum.state;
    if ((s instanceof CandidateState || s instanceof ProspectiveState) && !s.granted.has(to) && !s.rejected.has(to)) {
      s.timers.push(this.node.setTimer('raft.vote-retry', msToUs(this.cfg.retryBackoffMs), () => {
        if (this.quorum.state === s && !s.granted.has(to) && !s.rejected.has(to)) this.sendVote(s, to);
      }));
    }
  }

  handle(from: SimNode, msg: RaftMessage<P, S>): void {
    if (msg.type.endsWith('Response')) this.answered(from.id);
    switch (msg.type) {
      case 'Vote':
        return this.handleVote(from, msg);
      case 'VoteResponse':
        return this.handleVoteResponse(from, msg);
      case 'BeginQuorumEpoch':
        return this.handleBeginQuorumEpoch(from, msg.leaderEpoch, msg.leaderId);
      case 'BeginQuorumEpochResponse': {
        if (this.maybeTransition(msg.leaderEpoch, msg.leaderId)) return;
        const s = this.quorum.state;
        if (s instanceof LeaderState && msg.error === 'NONE') s.unackedBeginQuorum.delete(from.id);
        return;
      }
      case 'EndQuorumEpoch':
        return this.handleEndQuorumEpoch(from, msg.leaderEpoch, msg.leaderId, msg.preferredSuccessors);
      case 'EndQuorumEpochResponse':
        this.maybeTransition(msg.leaderEpoch, msg.leaderId);
        return;
      case 'Fetch':
        return this.handleFetch(from, msg);
      case 'FetchResponse':
        return this.handleFetchResponse(from, msg);
      case 'FetchSnapshot':
        return this.handleFetchSnapshot(from, msg);
      case 'FetchSnapshotResponse':
        return this.handleFetchSnapshotResponse(msg);
      default:
        assertNever(msg);
    }
  }

  /** For invariants and tests: the leader's view of the HW, or this node's. */
  get leaderHighWatermark(): number {
    const s = this.quorum.state;
    return s instanceof LeaderState ? s.highWatermark : this.highWatermark;
  }

  get majoritySize(): number {
    return this.majority;
  }

  /** Discards timers of a state that was entered outside transitionTo (none today). */
  get stateName(): string {
    return this.quorum.state.name;
  }
}
