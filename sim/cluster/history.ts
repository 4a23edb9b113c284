/**
 * Every state truth has held for each partition, as an append-only struct-of-arrays log with a
 * per-partition head index and a back link (a linked list per partition through one shared log).
 * It answers "was (leader, leaderEpoch, ISR) ever committed for p?" by walking only p's own
 * changes — which is how the tracker tells a stale cache entry from a phantom one. The initial
 * state of every partition is implied (not logged) to keep a 2M-partition start free.
 */
export class TruthHistory {
  private leader = new Int32Array(1024);
  private leaderEpoch = new Int32Array(1024);
  private isr = new Uint8Array(1024);
  private prev = new Int32Array(1024);
  private readonly head: Int32Array;
  count = 0;

  constructor(partitions: number) {
    this.head = new Int32Array(partitions).fill(-1);
  }

  append(p: number, leader: number, leaderEpoch: number, isr: number): void {
    const i = this.count;
    if (i === this.leader.length) this.grow();
    this.leader[i] = leader;
    this.leaderEpoch[i] = leaderEpoch;
    this.isr[i] = isr;
    this.prev[i] = this.head[p]!;
    this.head[p] = i;
    this.count = i + 1;
  }

  contains(p: number, leader: number, leaderEpoch: number, isr: number): boolean {
    for (let i = this.head[p]!; i >= 0; i = this.prev[i]!) {
      if (this.leaderEpoch[i] === leaderEpoch && this.leader[i] === leader && this.isr[i] === isr) return true;
    }
    return false;
  }

  /** Number of committed changes of p (for tests and figures). */
  changesOf(p: number): number {
    let n = 0;
    for (let i = this.head[p]!; i >= 0; i = this.prev[i]!) n++;
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
