/**
 * BrokerHeartbeatManager: soft state of the active controller only — when each broker last
 * heartbeated. Not in the log: a new active controller starts every registered broker's clock at
 * its own activation (ClusterControlManager.activate), so a broker that died just before the
 * failover is fenced broker.session.timeout.ms after the activation, not after its death.
 */
export class BrokerHeartbeatManager {
  private readonly lastContactUs: Float64Array;
  /** Brokers whose session is tracked (unfenced ones); fenced brokers cannot go stale. */
  private readonly tracked: Uint8Array;

  constructor(
    brokers: number,
    private readonly sessionTimeoutUs: number,
  ) {
    this.lastContactUs = new Float64Array(brokers);
    this.tracked = new Uint8Array(brokers);
  }

  /** Activation: every unfenced broker counts as just heard from. */
  activate(nowUs: number, unfenced: (b: number) => boolean): void {
    for (let b = 0; b < this.tracked.length; b++) {
      this.tracked[b] = unfenced(b) ? 1 : 0;
      this.lastContactUs[b] = nowUs;
    }
  }

  touch(b: number, nowUs: number): void {
    this.lastContactUs[b] = nowUs;
  }

  track(b: number, on: boolean, nowUs: number): void {
    this.tracked[b] = on ? 1 : 0;
    this.lastContactUs[b] = nowUs;
  }

  /** findOneStaleBroker: the tracked broker with the oldest contact, if its session has expired. */
  findOneStaleBroker(nowUs: number): number {
    const b = this.oldest();
    return b >= 0 && this.lastContactUs[b]! + this.sessionTimeoutUs <= nowUs ? b : -1;
  }

  /** When the oldest tracked session expires (µs), or -1. */
  nextExpiryUs(): number {
    const b = this.oldest();
    return b < 0 ? -1 : this.lastContactUs[b]! + this.sessionTimeoutUs;
  }

  private oldest(): number {
    let best = -1;
    for (let b = 0; b < this.tracked.length; b++) {
      if (this.tracked[b] === 1 && (best < 0 || this.lastContactUs[b]! < this.lastContactUs[best]!)) best = b;
    }
    return best;
  }
}
