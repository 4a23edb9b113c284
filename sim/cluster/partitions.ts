import { initialLeaders, type ClusterLayout } from './layout.ts';

/** Kafka's "no leader" (LeaderAndIsr.NoLeader / PartitionRecord Leader = -1). */
export const NO_LEADER = -1;
/** Replication factors above this do not fit the one-byte ISR bitmask over replica slots. */
export const MAX_REPLICATION_FACTOR = 8;

/** The ISR bitmask with every replica slot set (the state of a freshly created partition). */
export function fullIsrMask(rf: number): number {
  return (1 << rf) - 1;
}

/** The replica slot of `broker` in partition p of a replica assignment, or -1 when it is not a replica. */
export function replicaSlot(replicas: Int32Array, rf: number, p: number, broker: number): number {
  const base = p * rf;
  for (let i = 0; i < rf; i++) if (replicas[base + i] === broker) return i;
  return -1;
}

/** Whether the ISR bitmask `isr` of partition p holds `broker`. */
export function isrHolds(replicas: Int32Array, rf: number, isr: number, p: number, broker: number): boolean {
  const s = replicaSlot(replicas, rf, p, broker);
  return s >= 0 && (isr & (1 << s)) !== 0;
}

/** Members of an ISR bitmask. */
export function bitCount(mask: number): number {
  let m = mask;
  let n = 0;
  while (m !== 0) {
    m &= m - 1;
    n++;
  }
  return n;
}

/**
 * Partition states as struct-of-arrays: truth, a controller's context, a broker's cache. What
 * Kafka keeps per partition in `LeaderIsrAndControllerEpoch` (ZK mode) or `PartitionRegistration`
 * (KRaft): leader, leaderEpoch, partitionEpoch (ZK: the state znode's zkVersion) and the ISR —
 * here a bitmask over replica slots: bit i set ⇔ replicas[p*rf+i] is in the ISR.
 */
export class PartitionTable {
  readonly size: number;
  readonly rf: number;
  /** Shared with the layout (assignment never changes in these models); do not write. */
  readonly replicas: Int32Array;
  readonly leader: Int32Array;
  readonly leaderEpoch: Int32Array;
  readonly partitionEpoch: Int32Array;
  readonly isr: Uint8Array;
  /** The four arrays' one buffer, as bytes (copyFrom copies it in one move). */
  private readonly bytes: Uint8Array;

  /**
   * Initial state: leader = first replica (the preferred leader), epochs 0, ISR = all replicas.
   * With `blank`, the states are left unset (zeros) for a table that is filled by copyFrom next:
   * its memory is written once instead of twice.
   */
  constructor(layout: ClusterLayout, blank = false) {
    if (!(layout.replicationFactor >= 1 && layout.replicationFactor <= MAX_REPLICATION_FACTOR)) {
      throw new Error(`PartitionTable: replication factor ${layout.replicationFactor} outside 1..${MAX_REPLICATION_FACTOR} (ISR bitmask is one byte)`);
    }
    this.size = layout.partitions;
    this.rf = layout.replicationFactor;
    this.replicas = layout.replicas;
    // One allocation for the four arrays (three Int32 runs, then the ISR bytes).
    const n = this.size;
    const buf = new ArrayBuffer(n * 13);
    this.bytes = new Uint8Array(buf);
    this.leader = new Int32Array(buf, 0, n);
    this.leaderEpoch = new Int32Array(buf, n * 4, n);
    this.partitionEpoch = new Int32Array(buf, n * 8, n);
    this.isr = new Uint8Array(buf, n * 12, n);
    if (!blank) this.setInitial(layout);
  }

  /**
   * Writes the initial states' leaders and ISRs into a blank table (its epochs are still zero, and
   * their memory stays unwritten). Not for a table that has held other states.
   */
  setInitial(layout: ClusterLayout): void {
    this.isr.fill(fullIsrMask(this.rf));
    this.leader.set(initialLeaders(layout));
  }

  set(p: number, leader: number, leaderEpoch: number, partitionEpoch: number, isrMask: number): void {
    this.leader[p] = leader;
    this.leaderEpoch[p] = leaderEpoch;
    this.partitionEpoch[p] = partitionEpoch;
    this.isr[p] = isrMask;
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

  copyFrom(other: PartitionTable): void {
    if (other.size !== this.size || other.rf !== this.rf) throw new Error('PartitionTable.copyFrom: tables of different shape');
    this.bytes.set(other.bytes);
  }
}

/**
 * A batch of partition states, as LeaderAndIsr / UpdateMetadata requests and metadata record
 * batches carry them (Kafka sends per-partition state in batches; QuorumController appends at most
 * 10,000 records per batch). Fixed capacity; reuse with clear(). The five columns are views of one
 * buffer (one allocation per batch).
 */
export class PartitionStateBatch {
  count = 0;
  readonly partition: Int32Array;
  readonly leader: Int32Array;
  readonly leaderEpoch: Int32Array;
  readonly partitionEpoch: Int32Array;
  readonly isr: Uint8Array;

  constructor(readonly capacity: number) {
    const buf = new ArrayBuffer(capacity * 17);
    const b = capacity * 4;
    this.partition = new Int32Array(buf, 0, capacity);
    this.leader = new Int32Array(buf, b, capacity);
    this.leaderEpoch = new Int32Array(buf, 2 * b, capacity);
    this.partitionEpoch = new Int32Array(buf, 3 * b, capacity);
    this.isr = new Uint8Array(buf, 4 * b, capacity);
  }

  static ofSize(n: number): PartitionStateBatch {
    return new PartitionStateBatch(n);
  }

  /** A batch of table's states of parts[from], …, parts[from + n - 1], in that order. */
  static of(table: PartitionTable, parts: ArrayLike<number>, from: number, n: number): PartitionStateBatch {
    const batch = new PartitionStateBatch(n);
    const { leader, leaderEpoch, partitionEpoch, isr } = table;
    const p0 = n > 0 ? parts[from]! : 0;
    let dense = n > 0 && parts[from + n - 1] === p0 + n - 1;
    for (let j = 1; dense && j < n; j++) if (parts[from + j] !== p0 + j) dense = false;
    if (dense) {
      // Consecutive partitions (a full send): the table's columns copied as they are.
      for (let j = 0; j < n; j++) batch.partition[j] = p0 + j;
      batch.leader.set(leader.subarray(p0, p0 + n));
      batch.leaderEpoch.set(leaderEpoch.subarray(p0, p0 + n));
      batch.partitionEpoch.set(partitionEpoch.subarray(p0, p0 + n));
      batch.isr.set(isr.subarray(p0, p0 + n));
    } else {
      for (let j = 0; j < n; j++) {
        const p = parts[from + j]!;
        batch.partition[j] = p;
        batch.leader[j] = leader[p]!;
        batch.leaderEpoch[j] = leaderEpoch[p]!;
        batch.partitionEpoch[j] = partitionEpoch[p]!;
        batch.isr[j] = isr[p]!;
      }
    }
    batch.count = n;
    return batch;
  }

  get full(): boolean {
    return this.count >= this.capacity;
  }

  push(p: number, leader: number, leaderEpoch: number, partitionEpoch: number, isr: number): void {
    const i = this.count;
    if (i >= this.capacity) throw new Error(`PartitionStateBatch: capacity ${this.capacity} exceeded`);
    this.partition[i] = p;
    this.leader[i] = leader;
    this.leaderEpoch[i] = leaderEpoch;
    this.partitionEpoch[i] = partitionEpoch;
    this.isr[i] = isr;
    this.count = i + 1;
  }

  /** A batch of exactly this one's states (capacity = count). */
  copy(): PartitionStateBatch {
    const n = this.count;
    const out = new PartitionStateBatch(n);
    out.partition.set(this.partition.subarray(0, n));
    out.leader.set(this.leader.subarray(0, n));
    out.leaderEpoch.set(this.leaderEpoch.subarray(0, n));
    out.partitionEpoch.set(this.partitionEpoch.subarray(0, n));
    out.isr.set(this.isr.subarray(0, n));
    out.count = n;
    return out;
  }

  /** Appends partition p's state from a table. */
  pushFrom(table: PartitionTable, p: number): void {
    this.push(p, table.leader[p]!, table.leaderEpoch[p]!, table.partitionEpoch[p]!, table.isr[p]!);
  }

  clear(): void {
    this.count = 0;
  }
}
