/**
 * What every quorum state has (Kafka's EpochState): an epoch, a known leader or none, and the
 * timers that belong to the state — QuorumState cancels them on every transition, so a timer of
 * an old state can never act in a new one.
 */
export interface EpochState {
  readonly name: 'Unattached' | 'Voted' | 'Candidate' | 'Prospective' | 'Leader' | 'Follower' | 'Resigned';
  readonly epoch: number;
  /** The leader of this epoch, if known (-1 otherwise). */
  readonly leaderId: number;
  /** Node timer ids owned by this state. */
  readonly timers: number[];
}
