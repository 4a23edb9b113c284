import { bitCount, fullIsrMask, isrHolds, MAX_REPLICATION_FACTOR, replicaSlot, type PartitionStateBatch } from './partitions.ts';
import { initialLeaders, type ClusterLayout } from './layout.ts';

/** leaderEpoch of a partition a broker holds no state for (its cache was reset and not yet loaded). */
export const NO_STATE_EPOCH = -1;

/**
 * A signed column as narrow as its values allow: one byte per entry until a value needs more.
 * Write v at p with `c[p] = v; if (c[p] !== v) c = widenFor(c, p, v);` (keeping the new column).
 */
export type NarrowColumn = Int8Array | Int16Array | Int32Array;

/** The column widened one step (8 → 16 → 32 bits), values kept. */
function widen(c: NarrowColumn): NarrowColumn {
  const w = c instanceof Int8Array ? new Int16Array(c.length) : new Int32Array(c.length);
  w.set(c);
  return w;
}

/** The column widened until it holds v at p (the wrapped value written there is replaced). */
export function widenFor(c: NarrowColumn, p: number, v: number): NarrowColumn {
  let w = c;
  do {
    w = widen(w);
    w[p] = v;
  } while (w[p] !== v && !(w instanceof Int32Array));
  return w;
}

/** Whether every value of c fits a column of a's width. */
function fitsAll(a: NarrowColumn, c: Int32Array, n: number): boolean {
  if (a instanceof Int32Array) return true;
  const lim = a instanceof Int8Array ? 0x7f : 0x7fff;
  for (let i = 0; i < n; i++) {
    const v = c[i]!;
    if (v > lim || v < -lim - 1) return false;
  }
  return true;
}

/**
 * One broker's metadata cache (ZK mode: MetadataCache fed by UpdateMetadata/LeaderAndIsr; KRaft:
 * the MetadataImage the broker has published): leader, leader epoch, partition epoch and ISR mask
 * per partition, as a PartitionTable holds them. The broker owns it (ZkBroker.cache,
 * BrokerServer.cache) and reports every batch it puts in it (ObservationChannel.applied) and every
 * reset (cacheReset); observers keep their own view.
 *
 * Leader and the two epochs are narrow columns: a byte per partition while every value fits one
 * (broker ids, and the epochs a run reaches, are small), widened to 16 and then 32 bits the first
 * time a value does not — twelve brokers' caches at 2M partitions are 4 bytes per partition each
 * instead of 13. The columns are for reading; writes go through set() / setBatch(), which widen.
 */
export class BrokerMetadataCache {
  readonly size: number;
  readonly rf: number;
  /** Shared with the layout; do not write. */
  readonly replicas: Int32Array;
  leader: NarrowColumn;
  leaderEpoch: NarrowColumn;
  partitionEpoch: NarrowColumn;
  readonly isr: Uint8Array;

  /** Initial state (the layout's): leader = first replica, epochs 0, ISR = all replicas. */
  constructor(
    layout: ClusterLayout,
    readonly brokerId: number,
  ) {
    if (!(layout.replicationFactor >= 1 && layout.replicationFactor <= MAX_REPLICATION_FACTOR)) {
      throw new Error(`BrokerMetadataCache: replication factor ${layout.replicationFactor} outside 1..${MAX_REPLICATION_FACTOR} (ISR bitmask is one byte)`);
    }
    this.size = layout.partitions;
    this.rf = layout.replicationFactor;
    this.replicas = layout.replicas;
    const n = this.size;
    const rf = this.rf;
    this.leader = layout.brokers <= 0x7f ? new Int8Array(n) : layout.brokers <= 0x7fff ? new Int16Array(n) : new Int32Array(n);
    this.leaderEpoch = new Int8Array(n);
    this.partitionEpoch = new Int8Array(n);
    this.isr = new Uint8Array(n).fill(fullIsrMask(rf));
    this.leader.set(initialLeaders(layout));
  }

  set(p: number, leader: number, leaderEpoch: number, partitionEpoch: number, isrMask: number): void {
    // Written, then read back: a value the column cannot hold widens it (and is written again).
    this.leader[p] = leader;
    if (this.leader[p] !== leader) this.leader = widenFor(this.leader, p, leader);
    this.leaderEpoch[p] = leaderEpoch;
    if (this.leaderEpoch[p] !== leaderEpoch) this.leaderEpoch = widenFor(this.leaderEpoch, p, leaderEpoch);
    this.partitionEpoch[p] = partitionEpoch;
    if (this.partitionEpoch[p] !== partitionEpoch) this.partitionEpoch = widenFor(this.partitionEpoch, p, partitionEpoch);
    this.isr[p] = isrMask;
  }

  /** Puts the first n states of a batch in the cache, as set() would one by one. */
  setBatch(s: PartitionStateBatch, n: number): void {
    const sp = s.partition;
    const p0 = n > 0 ? sp[0]! : 0;
    let dense = n > 0 && sp[n - 1] === p0 + n - 1;
    for (let i = 1; dense && i < n; i++) if (sp[i] !== p0 + i) dense = false;
    if (!dense) {
      for (let i = 0; i < n; i++) this.set(sp[i]!, s.leader[i]!, s.leaderEpoch[i]!, s.partitionEpoch[i]!, s.isr[i]!);
      return;
    }
    // Consecutive partitions (each chunk of a full send): column by column, widened first if needed.
    while (!fitsAll(this.leader, s.leader, n)) this.leader = widen(this.leader);
    while (!fitsAll(this.leaderEpoch, s.leaderEpoch, n)) this.leaderEpoch = widen(this.leaderEpoch);
    while (!fitsAll(this.partitionEpoch, s.partitionEpoch, n)) this.partitionEpoch = widen(this.partitionEpoch);
    this.leader.set(s.leader.subarray(0, n), p0);
    this.leaderEpoch.set(s.leaderEpoch.subarray(0, n), p0);
    this.partitionEpoch.set(s.partitionEpoch.subarray(0, n), p0);
    this.isr.set(s.isr.subarray(0, n), p0);
  }

  /** Whether the cache holds a state for p (false after a reset until p is loaded). */
  has(p: number): boolean {
    return this.leaderEpoch[p]! !== NO_STATE_EPOCH;
  }

  leaderOf(p: number): number {
    return this.leader[p]!;
  }

  leaderEpochOf(p: number): number {
    return this.leaderEpoch[p]!;
  }

  partitionEpochOf(p: number): number {
    return this.partitionEpoch[p]!;
  }

  isrOf(p: number): number {
    return this.isr[p]!;
  }

  /** The replica slot of `broker` in partition p, or -1 when it is not a replica. */
  slotOf(p: number, broker: number): number {
    return replicaSlot(this.replicas, this.rf, p, broker);
  }

  isrHas(p: number, broker: number): boolean {
    return isrHolds(this.replicas, this.rf, this.isr[p]!, p, broker);
  }

  /** Number of ISR members of p. */
  isrSize(p: number): number {
    return bitCount(this.isr[p]!);
  }

  /** Empties the cache: every partition has no state (leader -1, epochs -1, empty ISR). */
  clear(): void {
    this.leader.fill(-1);
    this.leaderEpoch.fill(NO_STATE_EPOCH);
    this.partitionEpoch.fill(NO_STATE_EPOCH);
    this.isr.fill(0);
  }
}
