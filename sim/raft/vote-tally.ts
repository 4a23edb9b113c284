/**
 * The votes of one election round, shared by CandidateState and ProspectiveState (KIP-996 pre-vote
 * counts the same way): the local node votes for itself; a majority of grants wins, a majority of
 * rejections loses.
 */
export abstract class VoteTally {
  readonly granted = new Set<number>();
  readonly rejected = new Set<number>();

  constructor(
    readonly localId: number,
    readonly voters: readonly number[],
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
