import type { EpochState } from './epoch-state.ts';

/**
 * Resigned: the leader of this epoch gave up (check-quorum failed, or it restarted as the
 * persisted leader). It tells the voters with EndQuorumEpoch and, after an election timeout,
 * runs for the next epoch. It never appends again in this epoch.
 */
export class ResignedState implements EpochState {
  readonly name = 'Resigned';
  readonly timers: number[] = [];
  readonly unackedVoters: Set<number>;

  constructor(
    readonly epoch: number,
    readonly leaderId: number,
    voters: readonly number[],
    readonly preferredSuccessors: readonly number[],
  ) {
    this.unackedVoters = new Set(voters.filter((v) => v !== leaderId));
  }
}
