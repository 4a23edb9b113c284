import type { ServerState, Vote, Zxid } from './types.ts';

/** FastLeaderElection.finalizeWait: after a quorum agrees, wait this long for a better vote. */
export const FINALIZE_WAIT_MS = 200;
/** FastLeaderElection.maxNotificationInterval: resend backoff cap. */
export const MAX_NOTIFICATION_INTERVAL_MS = 60_000;

/** totalOrderPredicate: higher peer epoch, then higher zxid, then higher server id wins. */
export function betterVote(a: Vote, b: Vote): boolean {
  if (a.peerEpoch !== b.peerEpoch) return a.peerEpoch > b.peerEpoch;
  if (a.zxid !== b.zxid) return a.zxid > b.zxid;
  return a.leader > b.leader;
}

export interface ElectionHost {
  readonly sid: number;
  readonly quorum: number;
  readonly peers: readonly number[];
  lastLoggedZxid(): Zxid;
  currentEpoch(): number;
  broadcast(vote: Vote, electionEpoch: number): void;
  setTimer(label: string, delayMs: number, fn: () => void): number;
  cancelTimer(id: number): void;
  decide(leader: number): void;
}

/**
 * FastLeaderElection, reduced to what decides who leads: servers exchange votes for the best
 * (epoch, zxid, sid) they know; a server adopts any better vote it hears; once a quorum's votes
 * agree with its own it waits finalizeWait for a better one and then follows (or becomes) that
 * leader. A server that finds a quorum already following an established leader joins it.
 */
export class FastLeaderElection {
  logicalClock = 0;
  private proposal: Vote | null = null;
  private readonly recv = new Map<number, Vote>();
  private readonly outOfElection = new Map<number, { vote: Vote; state: ServerState }>();
  private finalizeTimer = -1;
  private resendTimer = -1;
  private resendMs = FINALIZE_WAIT_MS;
  private active = false;

  constructor(private readonly host: ElectionHost) {}

  get vote(): Vote | null {
    return this.proposal;
  }

  lookForLeader(): void {
    const h = this.host;
    this.active = true;
    this.logicalClock++;
    this.recv.clear();
    this.outOfElection.clear();
    this.proposal = { leader: h.sid, zxid: h.lastLoggedZxid(), peerEpoch: h.currentEpoch() };
    this.resendMs = FINALIZE_WAIT_MS;
    this.send();
    this.armResend();
  }

  stop(): void {
    this.active = false;
    this.host.cancelTimer(this.finalizeTimer);
    this.host.cancelTimer(this.resendTimer);
    this.finalizeTimer = -1;
    this.resendTimer = -1;
  }

  private send(): void {
    this.host.broadcast(this.proposal!, this.logicalClock);
  }

  private armResend(): void {
    this.host.cancelTimer(this.resendTimer);
    this.resendTimer = this.host.setTimer('fle-resend', this.resendMs, () => {
      if (!this.active) return;
      this.resendMs = Math.min(this.resendMs * 2, MAX_NOTIFICATION_INTERVAL_MS);
      this.send();
      this.armResend();
    });
  }

  private changeProposal(v: Vote): void {
    this.proposal = v;
    this.host.cancelTimer(this.finalizeTimer);
    this.finalizeTimer = -1;
    this.send();
  }

  /** A notification from a peer; `state` is the sender's. Returns true when the sender should hear our vote back. */
  onNotification(sid: number, vote: Vote, electionEpoch: number, state: ServerState): boolean {
    if (!this.active) return false;
    const h = this.host;
    if (state === 'LOOKING') {
      if (electionEpoch > this.logicalClock) {
        this.logicalClock = electionEpoch;
        this.recv.clear();
        const self: Vote = { leader: h.sid, zxid: h.lastLoggedZxid(), peerEpoch: h.currentEpoch() };
        this.changeProposal(betterVote(vote, self) ? vote : self);
      } else if (electionEpoch < this.logicalClock) {
        return true;
      } else if (betterVote(vote, this.proposal!)) {
        this.changeProposal(vote);
      }
      this.recv.set(sid, vote);
      this.checkQuorum();
      return false;
    }
    // The sender already follows or leads: join that leader if a quorum of the others does and it
    // really leads (FastLeaderElection.receivedFollowingNotification: the outofelection votes
    // alone, our own LOOKING vote is not among them; checkLeader).
    this.outOfElection.set(sid, { vote, state });
    let agree = 0;
    let leaderLeads = false;
    for (const [peer, o] of this.outOfElection) {
      if (o.vote.leader !== vote.leader) continue;
      agree++;
      if (peer === vote.leader && o.state === 'LEADING') leaderLeads = true;
    }
    if (agree >= h.quorum && leaderLeads) {
      this.logicalClock = Math.max(this.logicalClock, electionEpoch);
      this.proposal = vote;
      this.finish(vote.leader);
    }
    return false;
  }

  private checkQuorum(): void {
    const p = this.proposal!;
    let agree = 1;
    for (const v of this.recv.values()) if (v.leader === p.leader && v.zxid === p.zxid && v.peerEpoch === p.peerEpoch) agree++;
    if (agree < this.host.quorum || this.finalizeTimer >= 0) return;
    this.finalizeTimer = this.host.setTimer('fle-finalize', FINALIZE_WAIT_MS, () => {
      this.finalizeTimer = -1;
      if (this.active && this.proposal === p) this.finish(p.leader);
    });
  }

  private finish(leader: number): void {
    this.stop();
    this.host.decide(leader);
  }
}
