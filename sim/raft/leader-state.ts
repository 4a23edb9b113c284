import type { EpochState } from './epoch-state.ts';

/**
 * Leader (LeaderState): tracks how far each voter's log reached (the fetch offset of its latest
 * Fetch; its own flushed end for the leader) and derives the high watermark from them; counts
 * which voters fetched since the last check-quorum reset (KAFKA-15489); remembers which voters
 * have not yet acknowledged BeginQuorumEpoch.
 */
export class LeaderState implements EpochState {
  readonly name = 'Leader';
  readonly timers: number[] = [];
  /** -1 until the first commit in this epoch. */
  highWatermark = -1;
  readonly endOffsets = new Map<number, number>();
  readonly unackedBeginQuorum: Set<number>;
  private fetchedSinceCheck = new Set<number>();
  checkQuorumTimer = -1;

  constructor(
    readonly epoch: number,
    readonly leaderId: number,
    readonly voters: readonly number[],
    /** Offset of this epoch's LeaderChangeMessage: the first record of the epoch. */
    readonly epochStartOffset: number,
  ) {
    for (const v of voters) this.endOffsets.set(v, -1);
    this.unackedBeginQuorum = new Set(voters.filter((v) => v !== leaderId));
  }

  get majority(): number {
    return Math.floor(this.voters.length / 2) + 1;
  }

  /**
   * Records a voter's fetch; returns true when a majority (the leader included) has fetched since
   * the last reset, i.e. when the check-quorum timer should start over.
   */
  recordFetch(voterId: number): boolean {
    if (!this.endOffsets.has(voterId)) return false;
    this.fetchedSinceCheck.add(voterId);
    if (this.fetchedSinceCheck.size + 1 >= this.majority) {
      this.fetchedSinceCheck = new Set();
      return true;
    }
    return false;
  }

  /** Sets a voter's end offset; returns whether the high watermark moved. */
  updateEndOffset(voterId: number, endOffset: number, hwBeforeOwnEpoch: boolean): boolean {
    if (!this.endOffsets.has(voterId)) return false;
    this.endOffsets.set(voterId, endOffset);
    return this.maybeUpdateHighWatermark(hwBeforeOwnEpoch);
  }

  /**
   * LeaderState.maybeUpdateHighWatermark: the offset a majority of voters has reached, if it is
   * past the epoch start ("the leader must commit one record from its own epoch before it is
   * allowed to expose records from any previous epoch") and past the current HW (it never drops).
   */
  maybeUpdateHighWatermark(hwBeforeOwnEpoch: boolean): boolean {
    const offsets = [...this.endOffsets.values()].sort((a, b) => b - a);
    const candidate = offsets[this.majority - 1]!;
    if (candidate < 0) return false;
    if (!hwBeforeOwnEpoch && candidate <= this.epochStartOffset) return false;
    if (this.highWatermark >= 0 && candidate <= this.highWatermark) return false;
    this.highWatermark = candidate;
    return true;
  }

  /** Voters ordered by how far they reached, best first (EndQuorumEpoch's preferred successors). */
  successors(): number[] {
    return [...this.endOffsets.entries()]
      .filter(([id]) => id !== this.leaderId)
      .sort((a, b) => b[1] - a[1] || a[0] - b[0])
      .map(([id]) => id);
  }
}
