/**
 * The leader's session tracker (SessionTrackerImpl over an ExpiryQueue): a session's expiry time is
 * its last touch plus its timeout, rounded UP to the next multiple of tickTime
 * (ExpiryQueue.roundToNextInterval), so sessions expire in batches, up to one tick late. Times are
 * the leader's monotonic clock in µs.
 */
export class SessionTracker {
  private readonly expiryOf = new Map<number, number>();
  private readonly buckets = new Map<number, Set<number>>();
  private readonly timeoutUs = new Map<number, number>();

  /** `onCount`: told the number of tracked sessions whenever it changes (the run's time series). */
  constructor(
    private readonly tickUs: number,
    private readonly onCount?: (n: number) => void,
  ) {}

  roundToNextInterval(us: number): number {
    return (Math.floor(us / this.tickUs) + 1) * this.tickUs;
  }

  has(session: number): boolean {
    return this.expiryOf.has(session);
  }

  add(session: number, timeoutMs: number, nowUs: number): void {
    const known = this.expiryOf.has(session);
    this.timeoutUs.set(session, timeoutMs * 1000);
    this.touch(session, nowUs);
    if (!known) this.onCount?.(this.expiryOf.size);
  }

  /** A client's ping or request (relayed by followers in their ping replies). */
  touch(session: number, nowUs: number): void {
    const t = this.timeoutUs.get(session);
    if (t === undefined) return;
    const at = this.roundToNextInterval(nowUs + t);
    const old = this.expiryOf.get(session);
    if (old === at) return;
    if (old !== undefined) this.buckets.get(old)?.delete(session);
    this.expiryOf.set(session, at);
    let b = this.buckets.get(at);
    if (b === undefined) this.buckets.set(at, (b = new Set()));
    b.add(session);
  }

  remove(session: number): void {
    const old = this.expiryOf.get(session);
    if (old !== undefined) this.buckets.get(old)?.delete(session);
    this.expiryOf.delete(session);
    this.timeoutUs.delete(session);
    if (old !== undefined) this.onCount?.(this.expiryOf.size);
  }

  expiryAtUs(session: number): number | undefined {
    return this.expiryOf.get(session);
  }

  /** Sessions whose bucket is due at nowUs, in bucket then id order; they leave the tracker. */
  expire(nowUs: number): number[] {
    const due: number[] = [];
    const times = [...this.buckets.keys()].filter((t) => t <= nowUs).sort((a, b) => a - b);
    for (const t of times) {
      const b = this.buckets.get(t)!;
      this.buckets.delete(t);
      for (const s of [...b].sort((x, y) => x - y)) {
        due.push(s);
        this.expiryOf.delete(s);
        this.timeoutUs.delete(s);
      }
    }
    if (due.length > 0) this.onCount?.(this.expiryOf.size);
    return due;
  }
}
