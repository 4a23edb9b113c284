import type { EpochState } from './epoch-state.ts';
import { NO_LEADER } from './types.ts';
import { VoteTally } from './vote-tally.ts';

/**
 * Candidate: the node bumped the epoch, voted for itself and asks every voter for a vote. It wins
 * with a majority of grants; a majority of rejections or the election timeout sends it into an
 * exponential backoff (KafkaRaftClient.binaryExponentialElectionBackoffMs), then it runs again.
 */
export class CandidateState extends VoteTally implements EpochState {
  readonly name = 'Candidate';
  readonly leaderId = NO_LEADER;
  readonly timers: number[] = [];
  backingOff = false;

  constructor(
    readonly epoch: number,
    localId: number,
    voters: readonly number[],
    /** Elections this node has run in a row, this one included. */
    readonly retries: number,
  ) {
    super(localId, voters);
  }
}
