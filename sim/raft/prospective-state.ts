import type { EpochState } from './epoch-state.ts';
import { VoteTally } from './vote-tally.ts';

/**
 * Prospective (KIP-996 pre-vote): the node's timer expired, but before bumping the epoch it asks
 * the voters whether they would vote for it. Only a majority of yes makes it a Candidate, so a
 * node cut off from the quorum stops inflating epochs and disrupting a healthy leader on return.
 */
export class ProspectiveState extends VoteTally implements EpochState {
  readonly name = 'Prospective';
  readonly timers: number[] = [];

  constructor(
    readonly epoch: number,
    /** The leader the node followed before, if any: it returns to it if the pre-vote fails. */
    readonly leaderId: number,
    localId: number,
    voters: readonly number[],
    readonly retries: number,
  ) {
    super(localId, voters);
  }
}
