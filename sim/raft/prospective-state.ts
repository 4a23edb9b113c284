import type { EpochState } from './epoch-state.ts';

/**
 * Prospective (KIP-996 pre-vote): the node's timer expired, but before bumping the epoch it asks
 * the voters whether they would vote for it. Only a majority of yes makes it a Candidate, so a
 * node cut off from the quorum stops inflating epochs and disrupting a healthy leader on return.
 */
export class ProspectiveState implements EpochState {
  readonly name = 'Prospective';
  readonly timers: number[] = [];
  readonly granted = new Set<number>();
  readonly rejected = new Set<number>();

  constructor(
    readonly epoch: number,
    /** The leader the node followed before, if any: it returns to it if the pre-vote fails. */
    readonly leaderId: number,
    readonly localId: number,
    readonly voters: readonly number[],
    readonly retries: number,
  ) {
    this.granted.add(localId);
  }

  get majority(): number {
    return Math.floor(this.voters.length / 2) + 1;
  }

  get won(): boolean {
    return this.granted.size >= this.majority;
  }

  get lost(): boolean {
    return this.rejected.size >= this.majority;
  }
}
