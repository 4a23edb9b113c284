import type { Zxid } from './types.ts';

/**
 * Ground truth of the ensemble for its safety properties (Zab.tla: Leadership, PrefixConsistency):
 * at most one established leader per epoch, and every server's committed sequence a prefix of one
 * history. Servers report here; the properties read `violation`.
 */
export class ZabAudit {
  private readonly leaderOfEpoch = new Map<number, number>();
  /** The committed history, by position. */
  readonly history: Zxid[] = [];
  leadershipViolation: string | null = null;
  prefixViolation: string | null = null;
  /** Sid of the established leader of the newest epoch, or -1. */
  establishedLeader = -1;
  establishedEpoch = -1;

  established(sid: number, epoch: number): void {
    const prev = this.leaderOfEpoch.get(epoch);
    if (prev !== undefined && prev !== sid && this.leadershipViolation === null) {
      this.leadershipViolation = `zk-${sid} and zk-${prev} both established leadership of epoch ${epoch}`;
    }
    this.leaderOfEpoch.set(epoch, sid);
    if (epoch >= this.establishedEpoch) {
      this.establishedEpoch = epoch;
      this.establishedLeader = sid;
    }
  }

  steppedDown(sid: number): void {
    if (this.establishedLeader === sid) this.establishedLeader = -1;
  }

  /** Server sid committed zxid as the index-th txn of its history. True when it extends the history. */
  committed(sid: number, index: number, zxid: Zxid): boolean {
    if (index === this.history.length) {
      this.history.push(zxid);
      return true;
    }
    const h = this.history[index];
    if (index > this.history.length || h !== zxid) {
      if (this.prefixViolation === null) {
        this.prefixViolation = `zk-${sid} committed zxid 0x${zxid.toString(16)} at position ${index}, where the history has ${h === undefined ? 'a gap' : `0x${h.toString(16)}`}`;
      }
    }
    return false;
  }
}
