import { assertNever } from '../../core/index.ts';

/**
 * BrokerHeartbeatManager: soft state of the active controller only — when each broker last
 * heartbeated, the metadata offset it last reported, and its controlled shutdown offset. Not in the
 * log: a new active controller starts every registered broker's clock at its own activation
 * (ClusterControlManager.activate), so a broker that died just before the failover is fenced
 * broker.session.timeout.ms after the activation, not after its death.
 */
export class BrokerHeartbeatManager {
  private readonly lastContactUs: Float64Array;
  /** Brokers whose session is tracked (unfenced ones, the `unfenced` list); fenced brokers cannot go stale. */
  private readonly tracked: Uint8Array;
  /** The currentMetadataOffset of each broker's last heartbeat (exclusive end of what it applied); -1 unknown. */
  private readonly metadataOffset: Float64Array;
  /**
   * BrokerHeartbeatState.controlledShutdownOffset: -1 when not shutting down, else the end offset
   * of the last record the controlled shutdown's transition wrote.
   */
  private readonly controlledShutdownOffset: Float64Array;

  constructor(
    brokers: number,
    private readonly sessionTimeoutUs: number,
  ) {
    this.lastContactUs = new Float64Array(brokers);
    this.tracked = new Uint8Array(brokers);
    this.metadataOffset = new Float64Array(brokers).fill(-1);
    this.controlledShutdownOffset = new Float64Array(brokers).fill(-1);
  }

  /** Activation: every unfenced broker counts as just heard from, at an unknown offset. */
  activate(nowUs: number, unfenced: (b: number) => boolean): void {
    for (let b = 0; b < this.tracked.length; b++) {
      this.tracked[b] = unfenced(b) ? 1 : 0;
      this.lastContactUs[b] = nowUs;
      this.metadataOffset[b] = -1;
      this.controlledShutdownOffset[b] = -1;
    }
  }

  /** A heartbeat: contact, reported offset, and whether the broker is fenced after it. */
  touch(b: number, fenced: boolean, metadataOffset: number, nowUs: number): void {
    this.track(b, !fenced, nowUs);
    this.metadataOffset[b] = metadataOffset;
  }

  track(b: number, on: boolean, nowUs: number): void {
    this.tracked[b] = on ? 1 : 0;
    this.lastContactUs[b] = nowUs;
    // A fenced broker leaves controlled shutdown; its next WantShutDown heartbeat shuts it down at once.
    if (!on) this.controlledShutdownOffset[b] = -1;
  }

  shuttingDown(b: number): boolean {
    return this.controlledShutdownOffset[b]! >= 0;
  }

  /** CONTROLLED_SHUTDOWN entered: the end offset of the transition's last record. */
  setControlledShutdownOffset(b: number, offset: number): void {
    this.controlledShutdownOffset[b] = offset;
  }

  controlledShutdownOffsetOf(b: number): number {
    return this.controlledShutdownOffset[b]!;
  }

  /**
   * lowestActiveOffset: the lowest metadata offset reported by an active broker (unfenced and not
   * shutting down); Infinity with none. A broker that stopped heartbeating keeps its last offset
   * here until it is fenced.
   */
  lowestActiveOffset(): number {
    let low = Infinity;
    for (let b = 0; b < this.tracked.length; b++) {
      if (this.tracked[b] === 1 && this.controlledShutdownOffset[b]! < 0 && this.metadataOffset[b]! < low) low = this.metadataOffset[b]!;
    }
    return low;
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

/** BrokerControlState: where a heartbeat leaves a broker (controller/BrokerControlState.java). */
export type BrokerControlState = 'FENCED' | 'UNFENCED' | 'CONTROLLED_SHUTDOWN' | 'SHUTDOWN_NOW';

export function isFencedState(s: BrokerControlState): boolean {
  return s === 'FENCED' || s === 'SHUTDOWN_NOW';
}

/**
 * BrokerHeartbeatManager.calculateNextBrokerState for one heartbeat (KIP-631). A fenced broker
 * that wants to stop may stop at once; otherwise it is unfenced once it has applied its own
 * RegisterBrokerRecord (KAFKA-13959). An unfenced broker that wants to stop enters
 * CONTROLLED_SHUTDOWN while it still leads partitions (immediate shutdown otherwise). In
 * CONTROLLED_SHUTDOWN it may stop once it leads nothing and every active broker has reported
 * a metadata offset at or past its controlled shutdown offset — i.e. every broker that will
 * serve has seen the leader moves. Offsets here are exclusive ends (applied up to, not including).
 */
export function calculateNextBrokerState(
  hb: BrokerHeartbeatManager,
  b: number,
  fenced: boolean,
  req: { readonly wantShutDown: boolean; readonly currentMetadataOffset: number },
  registerBrokerRecordOffset: number,
  hasLeaderships: () => boolean,
): { current: BrokerControlState; next: BrokerControlState } {
  const current: Exclude<BrokerControlState, 'SHUTDOWN_NOW'> = hb.shuttingDown(b) ? 'CONTROLLED_SHUTDOWN' : fenced ? 'FENCED' : 'UNFENCED';
  const to = (next: BrokerControlState): { current: BrokerControlState; next: BrokerControlState } => ({ current, next });
  switch (current) {
    case 'FENCED':
      if (req.wantShutDown) return to('SHUTDOWN_NOW');
      return to(req.currentMetadataOffset > registerBrokerRecordOffset ? 'UNFENCED' : 'FENCED');
    case 'UNFENCED':
      if (!req.wantShutDown) return to('UNFENCED');
      return to(hasLeaderships() ? 'CONTROLLED_SHUTDOWN' : 'SHUTDOWN_NOW');
    case 'CONTROLLED_SHUTDOWN':
      if (hasLeaderships()) return to('CONTROLLED_SHUTDOWN');
      return to(hb.controlledShutdownOffsetOf(b) <= hb.lowestActiveOffset() ? 'SHUTDOWN_NOW' : 'CONTROLLED_SHUTDOWN');
    default:
      return assertNever(current);
  }
}
