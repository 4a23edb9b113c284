import type { SimNode, Simulation } from '../../core/index.ts';
import { msToUs } from '../../core/index.ts';
import { QUORUM_STATE_KEY, type ElectionState } from './quorum-state.ts';
import { RaftLog } from './raft-log.ts';
import type { RaftObserver } from './raft-listener.ts';
import { NO_LEADER, type RecordBatch } from './types.ts';

/** LeaderState.CHECK_QUORUM_TIMEOUT_FACTOR: check-quorum expires after 1.5 × fetch timeout. */
const CHECK_QUORUM_FACTOR = 1.5;

/** A node leading now, and when (virtual µs and on its own monotonic clock) a majority last fetched. */
interface Leading {
  readonly epoch: number;
  contactUs: number;
  contactMonoUs: number;
  /** First check that saw the check-quorum deadline passed on a running leader (-1: not yet). */
  overdueSinceUs: number;
  /** The leader's last resume from a pause (its deferred events all run at that instant). */
  resumedUs: number;
}

/**
 * The Raft invariants of Kafka's RaftEventSimulationTest (kafka-facts §3.1), checked as the run
 * goes, from outside the nodes: SingleLeader, MonotonicEpoch, MonotonicHighWatermark,
 * MajorityReachedHighWatermark, ConsistentCommittedData — plus check-quorum (KAFKA-15489): a
 * leader that has not heard from a majority for 1.5 × fetch timeout has resigned. Each check is
 * incremental: it looks only at what the event that woke it changed.
 */
export class RaftInvariants<P> implements RaftObserver<P> {
  private readonly leaderOfEpoch = new Map<number, number>();
  private readonly actedEpoch = new Map<number, number>();
  private readonly committed = new Map<number, { checksum: number; epoch: number; node: string }>();
  /** Leaders as they are now: node id → epoch and last majority contact. */
  readonly leading = new Map<number, Leading>();
  private highestLeaderEpoch = -1;
  private highestLeaderHw = -1;
  private broken: Record<string, string | null> = {};
  /** Epochs each node entered (for pre-vote comparisons). */
  readonly epochBumps = new Map<number, number>();
  /** Elections won, over the run. */
  leadersElected = 0;

  constructor(
    private readonly sim: Simulation,
    private readonly voters: readonly SimNode[],
    private readonly fetchTimeoutMs: number,
  ) {
    sim.onLifecycle((node, event) => {
      if (event === 'crash') this.leading.delete(node.id);
      const l = this.leading.get(node.id);
      if (event === 'resume' && l !== undefined) l.resumedUs = sim.nowUs;
    });
  }

  get majority(): number {
    return Math.floor(this.voters.length / 2) + 1;
  }

  /** Registers the invariants with the simulation's property checker. */
  register(include: (name: string) => boolean = () => true): void {
    const props = this.sim.props;
    const p = { safety: (name: string, check: () => string | null, opts: { on: readonly string[] }) => { if (include(name)) props.safety(name, check, opts); } };
    const flag = (name: string): (() => string | null) => () => this.broken[name] ?? null;
    p.safety('raft.single-leader-per-epoch', flag('single'), { on: ['raft.leader', 'raft.state'] });
    p.safety('raft.monotonic-epoch', flag('epoch'), { on: ['raft.state', 'start'] });
    p.safety('raft.monotonic-high-watermark', flag('hw'), { on: ['raft.hw'] });
    p.safety('raft.majority-reached-high-watermark', () => this.checkMajority(), { on: ['raft.hw', 'crash'] });
    p.safety('raft.committed-data-consistent', flag('data'), { on: ['raft.hw'] });
    p.safety('raft.leader-resigns-without-majority', () => this.checkQuorumContact(), { on: ['Fetch', 'FetchResponse', 'FetchSnapshot', 'FetchSnapshotResponse', 'raft.hw'] });
  }

  private fail(key: string, detail: string): void {
    if (this.broken[key] === undefined || this.broken[key] === null) this.broken[key] = detail;
  }

  onElectionState(node: SimNode, s: ElectionState, durable: boolean): void {
    const prev = this.actedEpoch.get(node.id);
    if (prev === undefined || s.epoch > prev) this.epochBumps.set(node.id, (this.epochBumps.get(node.id) ?? 0) + 1);
    // A (re)start reading an older epoch than the node acted in: the quorum-state file lost it.
    // A missing file is a fresh or wiped disk, which Raft does not protect against.
    if (prev !== undefined && s.epoch < prev && node.store.get(QUORUM_STATE_KEY) !== undefined) {
      this.fail('epoch', `${node.name} went back from epoch ${prev} to ${s.epoch} (quorum state not durable)`);
    }
    if (prev === undefined || s.epoch > prev || node.store.get(QUORUM_STATE_KEY) === undefined) this.actedEpoch.set(node.id, s.epoch);
    void durable;
    if (s.leaderId !== NO_LEADER) this.recordLeader(s.epoch, s.leaderId, node.name);
  }

  private recordLeader(epoch: number, leaderId: number, seenBy: string): void {
    const known = this.leaderOfEpoch.get(epoch);
    if (known === undefined) this.leaderOfEpoch.set(epoch, leaderId);
    else if (known !== leaderId) this.fail('single', `epoch ${epoch} has two leaders: node ${known} and node ${leaderId} (seen by ${seenBy})`);
  }

  onBecomeLeader(node: SimNode, epoch: number): void {
    this.leadersElected++;
    this.recordLeader(epoch, node.id, node.name);
    this.leading.set(node.id, { epoch, contactUs: this.sim.nowUs, contactMonoUs: node.monoNowUs, overdueSinceUs: -1, resumedUs: -1 });
  }

  onLeaderEnd(node: SimNode, epoch: number): void {
    if (this.leading.get(node.id)?.epoch === epoch) this.leading.delete(node.id);
  }

  onMajorityContact(node: SimNode, epoch: number): void {
    const l = this.leading.get(node.id);
    if (l === undefined || l.epoch !== epoch) return;
    l.contactUs = this.sim.nowUs;
    l.contactMonoUs = node.monoNowUs;
    l.overdueSinceUs = -1;
  }

  onHighWatermark(node: SimNode, epoch: number, isLeader: boolean, hw: number, batches: readonly RecordBatch<P>[]): void {
    if (isLeader && epoch >= this.highestLeaderEpoch) {
      if (hw < this.highestLeaderHw) this.fail('hw', `leader ${node.name} of epoch ${epoch} moved the high watermark back from ${this.highestLeaderHw} to ${hw}`);
      this.highestLeaderEpoch = epoch;
      this.highestLeaderHw = hw;
    }
    for (const b of batches) {
      const seen = this.committed.get(b.baseOffset);
      if (seen === undefined) this.committed.set(b.baseOffset, { checksum: b.checksum, epoch: b.epoch, node: node.name });
      else if (seen.checksum !== b.checksum) {
        this.fail('data', `committed batch at offset ${b.baseOffset} differs: epoch ${seen.epoch} on ${seen.node}, epoch ${b.epoch} on ${node.name}`);
      }
    }
  }

  private checkMajority(): string | null {
    const hw = this.highestLeaderHw;
    if (hw <= 0) return null;
    let reached = 0;
    for (const v of this.voters) if (new RaftLog(v).endOffset >= hw) reached++;
    return reached >= this.majority ? null : `only ${reached} of ${this.voters.length} voters have a log reaching the high watermark ${hw}`;
  }

  /**
   * Check-quorum as the leader runs it: a timer of 1.5 × fetch timeout on the leader's own
   * monotonic clock, reset when a majority has fetched. A slow clock stretches it in virtual time
   * and a paused leader acts only on resume, when its deferred events run in the order they came
   * due (a Vote from a newer epoch may end the leadership before the timer does). So the leader is
   * overdue once its own clock passed the deadline while it was running; it must have resigned by
   * any later instant that is not the instant of a resume, whose deferred events are still running.
   */
  private checkQuorumContact(): string | null {
    const timeoutUs = msToUs(this.fetchTimeoutMs * CHECK_QUORUM_FACTOR);
    const now = this.sim.nowUs;
    // A single voter is its own majority: it never loses contact with one (LeaderState's
    // check-quorum counts the leader itself, so with one voter it never expires).
    if (this.voters.length === 1) return null;
    for (const [id, l] of this.leading) {
      const n = this.voters.find((v) => v.id === id);
      if (n === undefined || !n.up || n.paused) continue;
      const ownElapsedUs = n.monoNowUs - l.contactMonoUs;
      if (ownElapsedUs < timeoutUs) continue;
      // The timer came due at this instant or earlier; it may still be queued behind this event.
      if (l.overdueSinceUs < 0) l.overdueSinceUs = now;
      if (now > l.overdueSinceUs && now > l.resumedUs) {
        return `${n.name} still leads epoch ${l.epoch}: its own clock ran ${(ownElapsedUs / 1000).toFixed(0)} ms (${((now - l.contactUs) / 1000).toFixed(0)} ms of real time) since its last contact with a majority, past check-quorum's ${this.fetchTimeoutMs * CHECK_QUORUM_FACTOR} ms`;
      }
    }
    return null;
  }

  onQuorumTimeout(): void {}

  /** Whether a batch at this offset with this checksum has been committed anywhere. */
  isCommitted(baseOffset: number, checksum: number): boolean {
    return this.committed.get(baseOffset)?.checksum === checksum;
  }

  /** Highest epoch with a leader and that leader's HW, for tests. */
  get highWatermark(): number {
    return this.highestLeaderHw;
  }

  get epochsWithLeader(): number {
    return this.leaderOfEpoch.size;
  }
}
