import type { EpochState } from './epoch-state.ts';
import { NO_LEADER } from './types.ts';

/**
 * Candidate: the node bumped the epoch, voted for itself and asks every voter for a vote. It wins
 * with a majority of grants; a majority of rejections or the election timeout sends it into an
 * exponential backoff (KafkaRaftClient.binaryExponentialElectionBackoffMs), then it runs again.
 */
export class CandidateState implements EpochState {
  readonly name = 'Candidate';
  readonly leaderId = NO_LEADER;
  readonly timers: number[] = [];
  readonly granted = new Set<number>();
  readonly rejected = new Set<number>();
  backingOff = false;

  constructor(
    readonly epoch: number,
    readonly localId: number,
    readonly voters: readonly number[],
    /** Elections this node has run in a row, this one included. */
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
