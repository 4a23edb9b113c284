import type { EpochState } from './epoch-state.ts';

/**
 * Follower: the node knows this epoch's leader and pulls the log from it with Fetch. A voter
 * that has no successful fetch for controller.quorum.fetch.timeout.ms runs for election; an
 * observer goes back to looking for the leader.
 */
export class FollowerState implements EpochState {
  readonly name = 'Follower';
  readonly timers: number[] = [];
  highWatermark = -1;
  /** KIP-996: a follower grants a pre-vote only once it has lost touch with its leader. */
  lastFetchSuccessMonoUs = -1;
  /** Timer id of the fetch timeout (re-armed on each successful fetch). */
  fetchTimer = -1;

  constructor(
    readonly epoch: number,
    readonly leaderId: number,
  ) {}
}
