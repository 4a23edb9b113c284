import type { EpochState } from './epoch-state.ts';
import { NO_LEADER } from './types.ts';

/** Voted: the node granted its one vote of this epoch to `votedId` (persisted before the grant). */
export class VotedState implements EpochState {
  readonly name = 'Voted';
  readonly leaderId = NO_LEADER;
  readonly timers: number[] = [];

  constructor(
    readonly epoch: number,
    readonly votedId: number,
  ) {}
}
