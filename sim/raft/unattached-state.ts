import type { EpochState } from './epoch-state.ts';
import { NO_LEADER } from './types.ts';

/**
 * Unattached (KIP-595): the node knows the epoch but neither a leader nor a vote of its own in it.
 * A voter waits out a randomized election timeout, then runs; an observer looks for the leader.
 */
export class UnattachedState implements EpochState {
  readonly name = 'Unattached';
  readonly leaderId = NO_LEADER;
  readonly timers: number[] = [];

  constructor(readonly epoch: number) {}
}
