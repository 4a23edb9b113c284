import { hostedBy, initialLeaders, type ClusterLayout } from '../cluster/layout.ts';
import { fullIsrMask, PartitionTable } from '../cluster/partitions.ts';
import type { MetadataRecords } from './records.ts';

/** A frozen copy of an image, as a snapshot (KIP-630) carries it: typed arrays, never objects per partition. */
export interface ImageSnapshot {
  readonly leader: Int32Array;
  readonly leaderEpoch: Int32Array;
  readonly partitionEpoch: Int32Array;
  readonly isr: Uint8Array;
  readonly brokerEpoch: Float64Array;
  readonly fenced: Uint8Array;
  readonly registered: Uint8Array;
  readonly inControlledShutdown: Uint8Array;
}

/**
 * The metadata image a controller keeps (its ReplicationControlManager + ClusterControlManager
 * state): partition registrations as a PartitionTable, broker registrations as small arrays.
 * Records replay into it in log order.
 */
export class MetadataImage {
  readonly partitions: PartitionTable;
  readonly brokerEpoch: Float64Array;
  readonly fenced: Uint8Array;
  readonly registered: Uint8Array;
  readonly inControlledShutdown: Uint8Array;
  /**
   * The partitions hold the layout's initial states: true from construction (not blank) until
   * replay changes a partition or a snapshot is loaded. Only replay, loadSnapshot and copyFrom
   * write a committed image's partitions; an image written to directly (the active controller's
   * working image) has been a copyFrom destination, which clears it.
   */
  private initialPartitions: boolean;
  /** Blank and not yet written: every partition field is zero. */
  private blank: boolean;

  /** With `blank`, the partition states are left unset for an image that copyFrom fills next. */
  constructor(
    private readonly layout: ClusterLayout,
    blank = false,
  ) {
    this.partitions = new PartitionTable(layout, blank);
    this.initialPartitions = !blank;
    this.blank = blank;
    const B = layout.brokers;
    this.brokerEpoch = new Float64Array(B);
    this.fenced = new Uint8Array(B);
    this.registered = new Uint8Array(B).fill(1);
    this.inControlledShutdown = new Uint8Array(B);
  }

  replay(r: MetadataRecords): void {
    const pc = r.partitionChanges;
    if (pc !== null && pc.count > 0) {
      this.initialPartitions = false;
      this.blank = false;
    }
    if (pc !== null) for (let i = 0; i < pc.count; i++) this.partitions.set(pc.partition[i]!, pc.leader[i]!, pc.leaderEpoch[i]!, pc.partitionEpoch[i]!, pc.isr[i]!);
    for (const b of r.brokers) {
      switch (b.type) {
        case 'RegisterBrokerRecord':
          this.registered[b.brokerId] = 1;
          this.brokerEpoch[b.brokerId] = b.brokerEpoch;
          this.fenced[b.brokerId] = b.fenced ? 1 : 0;
          this.inControlledShutdown[b.brokerId] = 0;
          break;
        case 'FenceBrokerRecord':
          this.fenced[b.brokerId] = 1;
          break;
        case 'UnfenceBrokerRecord':
          this.fenced[b.brokerId] = 0;
          break;
        case 'BrokerRegistrationChangeRecord':
          this.inControlledShutdown[b.brokerId] = b.inControlledShutdown ? 1 : 0;
          break;
      }
    }
  }

  copyFrom(o: MetadataImage): void {
    // A blank image copying the initial states writes only leaders and ISRs (the epochs are zero
    // on both sides).
    if (this.blank && o.initialPartitions) this.partitions.setInitial(this.layout);
    else this.partitions.copyFrom(o.partitions);
    this.blank = false;
    this.initialPartitions = false;
    this.brokerEpoch.set(o.brokerEpoch);
    this.fenced.set(o.fenced);
    this.registered.set(o.registered);
    this.inControlledShutdown.set(o.inControlledShutdown);
  }

  /**
   * loadSnapshot of an initialSnapshot into an image that has not changed since it was built: its
   * partitions already hold the initial states, so only the broker registrations are copied.
   */
  loadInitialSnapshot(s: ImageSnapshot): void {
    this.brokerEpoch.set(s.brokerEpoch);
    this.fenced.set(s.fenced);
    this.registered.set(s.registered);
    this.inControlledShutdown.set(s.inControlledShutdown);
  }

  toSnapshot(): ImageSnapshot {
    const t = this.partitions;
    return {
      leader: t.leader.slice(), leaderEpoch: t.leaderEpoch.slice(), partitionEpoch: t.partitionEpoch.slice(), isr: t.isr.slice(),
      brokerEpoch: this.brokerEpoch.slice(), fenced: this.fenced.slice(), registered: this.registered.slice(), inControlledShutdown: this.inControlledShutdown.slice(),
    };
  }

  loadSnapshot(s: ImageSnapshot): void {
    this.initialPartitions = false;
    this.blank = false;
    const t = this.partitions;
    t.leader.set(s.leader);
    t.leaderEpoch.set(s.leaderEpoch);
    t.partitionEpoch.set(s.partitionEpoch);
    t.isr.set(s.isr);
    this.brokerEpoch.set(s.brokerEpoch);
    this.fenced.set(s.fenced);
    this.registered.set(s.registered);
    this.inControlledShutdown.set(s.inControlledShutdown);
  }

  /** Whether broker b may lead: registered, unfenced, not shutting down. */
  eligible(b: number): boolean {
    return this.registered[b] === 1 && this.fenced[b] === 0 && this.inControlledShutdown[b] === 0;
  }
}

/**
 * The image of a long-running cluster before anything happened, as a snapshot: every partition in
 * its initial state (leader = first replica, epochs 0, full ISR), broker b registered with epoch b,
 * unfenced. Built straight from the layout: its leader array is the layout's shared initial-leader
 * array (a snapshot is frozen: loading copies out of it, nothing writes into it).
 */
export function initialSnapshot(layout: ClusterLayout): ImageSnapshot {
  const P = layout.partitions;
  const B = layout.brokers;
  return {
    leader: initialLeaders(layout), leaderEpoch: new Int32Array(P), partitionEpoch: new Int32Array(P), isr: new Uint8Array(P).fill(fullIsrMask(layout.replicationFactor)),
    brokerEpoch: Float64Array.from({ length: B }, (_, b) => b), fenced: new Uint8Array(B), registered: new Uint8Array(B).fill(1), inControlledShutdown: new Uint8Array(B),
  };
}

/**
 * Partitions of which each broker is a replica (brokersToIsrs of the fixed layout: hostedBy). The
 * index is built on the first access to any broker's list, so a run that never fences, unfences
 * or shuts down a broker (a controller failover) never builds it.
 */
export function partitionsByBroker(layout: ClusterLayout): readonly Int32Array[] {
  const lists: Int32Array[] = [];
  for (let b = 0; b < layout.brokers; b++) Object.defineProperty(lists, b, { get: () => hostedBy(layout)[b]!, enumerable: true });
  return lists;
}
