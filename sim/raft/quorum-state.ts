import type { SimNode } from '../../core/index.ts';
import { CandidateState } from './candidate-state.ts';
import type { EpochState } from './epoch-state.ts';
import { FollowerState } from './follower-state.ts';
import { LeaderState } from './leader-state.ts';
import { ProspectiveState } from './prospective-state.ts';
import { ResignedState } from './resigned-state.ts';
import { UnattachedState } from './unattached-state.ts';
import { NO_LEADER } from './types.ts';
import { VotedState } from './voted-state.ts';
import { seriesOf } from '../cluster/series.ts';

export const QUORUM_STATE_KEY = 'quorum-state';

/** The `quorum-state` file (FileQuorumStateStore): epoch, leader and vote. */
export interface ElectionState {
  readonly epoch: number;
  readonly leaderId: number;
  readonly votedId: number;
}

/** Told about every persisted election state (the invariants' view of the quorum). */
export interface QuorumStateListener {
  onElectionState(node: SimNode, state: ElectionState, durable: boolean): void;
}

export class IllegalStateTransition extends Error {}

/**
 * QuorumState: owns the node's current EpochState and every transition between states, as
 * Kafka's QuorumState does. An illegal transition throws — a Raft bug, never silently ignored.
 * Every transition that changes the epoch, the leader or the vote is persisted first: the
 * quorum-state file is written and fsynced before the node acts on it (FileQuorumStateStore writes
 * a temp file, fsyncs and renames it), so a restarted node never forgets an epoch or a vote.
 */
export class QuorumState {
  private current: EpochState;

  constructor(
    private readonly node: SimNode,
    readonly localId: number,
    readonly voters: readonly number[],
    private readonly fsyncQuorumState: boolean,
    private readonly listener: QuorumStateListener | null,
  ) {
    this.current = new UnattachedState(0);
  }

  get state(): EpochState {
    return this.current;
  }

  get epoch(): number {
    return this.current.epoch;
  }

  get isVoter(): boolean {
    return this.voters.includes(this.localId);
  }

  get leaderId(): number {
    return this.current.leaderId;
  }

  get isLeader(): boolean {
    return this.current instanceof LeaderState;
  }

  /** The persisted election state, as the node finds it on (re)start. */
  readElectionState(): ElectionState {
    return this.node.store.get<ElectionState>(QUORUM_STATE_KEY) ?? { epoch: 0, leaderId: NO_LEADER, votedId: NO_LEADER };
  }

  /**
   * QuorumState.initialize: a node that was the leader restarts Resigned (it may have lost its
   * uncommitted tail and must not act as leader, KAFKA-17333); one that had voted keeps its vote;
   * one that knew a leader follows it; otherwise Unattached.
   */
  initialize(): EpochState {
    const s = this.readElectionState();
    this.listener?.onElectionState(this.node, s, true);
    this.reportEpoch(s.epoch);
    if (s.leaderId === this.localId && this.isVoter) {
      this.current = new ResignedState(s.epoch, this.localId, this.voters, []);
    } else if (s.leaderId !== NO_LEADER) {
      this.current = new FollowerState(s.epoch, s.leaderId);
    } else if (s.votedId !== NO_LEADER && this.isVoter) {
      this.current = new VotedState(s.epoch, s.votedId);
    } else {
      this.current = new UnattachedState(s.epoch);
    }
    return this.current;
  }

  /** Warm start: the node joins a running quorum in a given state without an election. */
  initializeWarm(epoch: number, leaderId: number, epochStartOffset: number): EpochState {
    this.persist({ epoch, leaderId, votedId: NO_LEADER });
    this.current = leaderId === this.localId ? new LeaderState(epoch, leaderId, this.voters, epochStartOffset) : new FollowerState(epoch, leaderId);
    if (this.current instanceof LeaderState) this.current.unackedBeginQuorum.clear();
    return this.current;
  }

  private persist(s: ElectionState): void {
    const store = this.node.store;
    store.put(QUORUM_STATE_KEY, s);
    if (this.fsyncQuorumState) {
      // The write is synchronous on Kafka's Raft thread: durable before anything else happens.
      store.completeSync({ values: new Map([[QUORUM_STATE_KEY, s]]), logLengths: new Map() });
    }
    this.listener?.onElectionState(this.node, s, this.fsyncQuorumState);
    this.reportEpoch(s.epoch);
  }

  /** A voter's epoch for the run's time series (when recorded); every epoch change is persisted first. */
  private reportEpoch(epoch: number): void {
    if (this.isVoter) seriesOf(this.node.sim)?.raftEpoch(this.node, epoch);
  }

  private enter<T extends EpochState>(next: T, persisted: ElectionState | null): T {
    for (const t of this.current.timers) this.node.cancelTimer(t);
    if (persisted !== null) this.persist(persisted);
    this.current = next;
    this.node.note('raft.state', next.epoch, `${next.name} leader=${next.leaderId}`);
    return next;
  }

  private fail(to: string, why: string): never {
    throw new IllegalStateTransition(`${this.node.name}: cannot go from ${this.current.name} (epoch ${this.epoch}) to ${to}: ${why}`);
  }

  transitionToUnattached(epoch: number): UnattachedState {
    const c = this.current;
    if (epoch < c.epoch) this.fail('Unattached', `epoch ${epoch} is older`);
    if (epoch === c.epoch) {
      // Same epoch only when leaving a lost pre-vote, or an observer losing its leader.
      const ok = c instanceof ProspectiveState || (!this.isVoter && (c instanceof FollowerState || c instanceof UnattachedState));
      if (!ok) this.fail('Unattached', 'the epoch did not change');
    }
    return this.enter(new UnattachedState(epoch), { epoch, leaderId: NO_LEADER, votedId: NO_LEADER });
  }

  transitionToVoted(epoch: number, candidateId: number): VotedState {
    const c = this.current;
    if (!this.isVoter) this.fail('Voted', 'an observer has no vote');
    if (epoch < c.epoch) this.fail('Voted', `epoch ${epoch} is older`);
    if (epoch === c.epoch && !(c instanceof UnattachedState)) this.fail('Voted', `already ${c.name} in this epoch`);
    return this.enter(new VotedState(epoch, candidateId), { epoch, leaderId: NO_LEADER, votedId: candidateId });
  }

  transitionToProspective(retries: number): ProspectiveState {
    const c = this.current;
    if (!this.isVoter) this.fail('Prospective', 'an observer cannot run');
    if (c instanceof LeaderState) this.fail('Prospective', 'the node leads this epoch');
    const leader = c instanceof FollowerState ? c.leaderId : NO_LEADER;
    // A pre-vote changes nothing durable.
    return this.enter(new ProspectiveState(c.epoch, leader, this.localId, this.voters, retries), null);
  }

  transitionToCandidate(retries: number): CandidateState {
    const c = this.current;
    if (!this.isVoter) this.fail('Candidate', 'an observer cannot run');
    if (c instanceof LeaderState) this.fail('Candidate', 'the node leads this epoch');
    const epoch = c.epoch + 1;
    return this.enter(new CandidateState(epoch, this.localId, this.voters, retries), { epoch, leaderId: NO_LEADER, votedId: this.localId });
  }

  transitionToLeader(epochStartOffset: number): LeaderState {
    const c = this.current;
    if (!(c instanceof CandidateState)) return this.fail('Leader', 'only a candidate can become leader');
    if (!c.won) this.fail('Leader', `only ${c.granted.size} of ${c.voters.length} votes`);
    return this.enter(new LeaderState(c.epoch, this.localId, this.voters, epochStartOffset), { epoch: c.epoch, leaderId: this.localId, votedId: this.localId });
  }

  transitionToFollower(epoch: number, leaderId: number): FollowerState {
    const c = this.current;
    if (leaderId === this.localId) this.fail('Follower', 'a node cannot follow itself');
    if (epoch < c.epoch) this.fail('Follower', `epoch ${epoch} is older`);
    if (epoch === c.epoch) {
      if (c instanceof LeaderState || c instanceof ResignedState) this.fail('Follower', `node ${leaderId} cannot lead epoch ${epoch}: this node led it`);
      if (c instanceof FollowerState && c.leaderId !== leaderId) this.fail('Follower', `epoch ${epoch} already has leader ${c.leaderId}, not ${leaderId}`);
    }
    const votedId = c instanceof VotedState && c.epoch === epoch ? c.votedId : c instanceof CandidateState && c.epoch === epoch ? this.localId : NO_LEADER;
    return this.enter(new FollowerState(epoch, leaderId), { epoch, leaderId, votedId });
  }

  transitionToResigned(preferredSuccessors: readonly number[]): ResignedState {
    const c = this.current;
    if (!(c instanceof LeaderState)) return this.fail('Resigned', 'only the leader can resign');
    return this.enter(new ResignedState(c.epoch, this.localId, this.voters, preferredSuccessors), null);
  }
}
