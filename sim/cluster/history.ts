import type { ClusterLayout } from './layout.ts';

/**
 * Every state truth has held for each partition, as an append-only struct-of-arrays log with a
 * per-partition head index and a back link (a linked list per partition through one shared log).
 * It answers "was (leader, leaderEpoch, ISR) ever committed for p?" by walking only p's own
 * changes — which is how the tracker tells a stale cache entry from a phantom one. The initial
 * state of every partition is implied (not logged) to keep a 2M-partition start free. Entries are
 * also what the tracker's mirror of each broker cache points at (one Int32 per broker and
 * partition instead of a copy of the cache), phantom states included as detached entries.
 *
 * Given the layout, it also notes which brokers an entry ever named leader of a partition they are
 * not a replica of (strayLeader): until one does, every partition whose truth or mirrored cache
 * names broker b leader is among b's hosted partitions, and the tracker scans only those.
 */
export class TruthHistory {
  private leader = new Int32Array(1024);
  private leaderEpoch = new Int32Array(1024);
  private isr = new Uint8Array(1024);
  private prev = new Int32Array(1024);
  /** head[p] = 1 + the entry of p's latest committed state; 0 for none (a fresh array: no fill). */
  private readonly head: Int32Array;
  /** stray[b] = 1 once an entry named broker b leader outside the replicas of its partition. */
  private readonly stray: Uint8Array;
  count = 0;

  constructor(
    partitions: number,
    private readonly layout: ClusterLayout | null = null,
  ) {
    this.head = new Int32Array(partitions);
    this.stray = new Uint8Array(layout?.brokers ?? 0);
  }

  /**
   * Whether some entry may name broker b leader of a partition b is not a replica of (always true
   * without a layout; a detached entry's partition is unknown, so any broker it names counts).
   */
  strayLeader(b: number): boolean {
    return this.layout === null || this.stray[b] === 1;
  }

  /** Appends a committed state of p; returns its entry. */
  append(p: number, leader: number, leaderEpoch: number, isr: number): number {
    if (leader >= 0 && leader < this.stray.length && this.stray[leader] === 0 && !this.isReplica(p, leader)) this.stray[leader] = 1;
    const i = this.add(leader, leaderEpoch, isr);
    this.prev[i] = this.head[p]! - 1;
    this.head[p] = i + 1;
    return i;
  }

  /**
   * Stores a state that is not part of any partition's history (a phantom a broker cache holds):
   * an entry an observer can point at, never found by contains / find.
   */
  appendDetached(leader: number, leaderEpoch: number, isr: number): number {
    if (leader >= 0 && leader < this.stray.length) this.stray[leader] = 1;
    const i = this.add(leader, leaderEpoch, isr);
    this.prev[i] = -2;
    return i;
  }

  contains(p: number, leader: number, leaderEpoch: number, isr: number): boolean {
    return this.find(p, leader, leaderEpoch, isr) >= 0;
  }

  /** The latest entry of p's history holding this state, or -1. */
  find(p: number, leader: number, leaderEpoch: number, isr: number): number {
    for (let i = this.head[p]! - 1; i >= 0; i = this.prev[i]!) {
      if (this.leaderEpoch[i] === leaderEpoch && this.leader[i] === leader && this.isr[i] === isr) return i;
    }
    return -1;
  }

  /** The entry of p's latest committed state, or -1 (the initial state). */
  headOf(p: number): number {
    return this.head[p]! - 1;
  }

  /** heads[p] = headOf(p) + 1, for loops over many partitions (read only). */
  get heads(): Int32Array {
    return this.head;
  }

  leaderAt(i: number): number {
    return this.leader[i]!;
  }

  leaderEpochAt(i: number): number {
    return this.leaderEpoch[i]!;
  }

  isrAt(i: number): number {
    return this.isr[i]!;
  }

  private isReplica(p: number, broker: number): boolean {
    const { replicas, replicationFactor: rf } = this.layout!;
    for (let i = p * rf; i < p * rf + rf; i++) if (replicas[i] === broker) return true;
    return false;
  }

  private add(leader: number, leaderEpoch: number, isr: number): number {
    const i = this.count;
    if (i === this.leader.length) this.grow();
    this.leader[i] = leader;
    this.leaderEpoch[i] = leaderEpoch;
    this.isr[i] = isr;
    this.count = i + 1;
    return i;
  }

  /** Number of committed changes of p (for tests and figures). */
  changesOf(p: number): number {
    let n = 0;
    for (let i = this.head[p]! - 1; i >= 0; i = this.prev[i]!) n++;
    return n;
  }

  private grow(): void {
    const cap = this.leader.length * 2;
    const g = <T extends Int32Array | Uint8Array>(a: T, make: (n: number) => T): T => {
      const b = make(cap);
      b.set(a);
      return b;
    };
    this.leader = g(this.leader, (n) => new Int32Array(n));
    this.leaderEpoch = g(this.leaderEpoch, (n) => new Int32Array(n));
    this.isr = g(this.isr, (n) => new Uint8Array(n));
    this.prev = g(this.prev, (n) => new Int32Array(n));
  }
}
