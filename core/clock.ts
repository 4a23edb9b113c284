/**
 * A node's clocks. The monotonic clock runs at `rate` (1 + drift) against virtual time; the wall
 * clock is the monotonic clock plus an offset that jumps can move. Kafka and ZooKeeper time their
 * timeouts on monotonic clocks, so drift and pauses move timeouts while a wall offset or jump moves
 * only what reads wall time.
 */

/** Wall-clock reading of every node at virtual time 0 (2024-01-01T00:00:00Z in µs). */
export const WALL_EPOCH_US = 1_704_067_200_000_000;

export class NodeClock {
  private rate = 1;
  private anchorRealUs = 0;
  private anchorMonoUs = 0;
  private wallOffsetUs = WALL_EPOCH_US;

  get driftRate(): number {
    return this.rate;
  }

  /**
   * The monotonic reading at virtual time realUs, in whole microseconds (rounded down), so models
   * do exact integer arithmetic on their own clocks whatever the drift.
   */
  monoAt(realUs: number): number {
    return Math.floor(this.exactMonoAt(realUs));
  }

  private exactMonoAt(realUs: number): number {
    return this.anchorMonoUs + (realUs - this.anchorRealUs) * this.rate;
  }

  wallAt(realUs: number): number {
    return this.monoAt(realUs) + this.wallOffsetUs;
  }

  /** Earliest integer virtual time at which the monotonic clock reads at least `monoUs`. */
  realAtMono(monoUs: number): number {
    let t = Math.ceil(this.anchorRealUs + (monoUs - this.anchorMonoUs) / this.rate - 1e-6);
    while (this.monoAt(t) < monoUs) t++; // the division can land a hair short
    return t;
  }

  realAtWall(wallUs: number): number {
    return this.realAtMono(wallUs - this.wallOffsetUs);
  }

  /** Changes the rate from `realNowUs` on; readings stay continuous. */
  setRate(realNowUs: number, rate: number): void {
    if (!(rate > 0)) throw new Error(`NodeClock.setRate: rate must be > 0, got ${rate}`);
    this.anchorMonoUs = this.exactMonoAt(realNowUs);
    this.anchorRealUs = realNowUs;
    this.rate = rate;
  }

  /** Moves the wall clock by deltaUs (an NTP step, a VM resume); monotonic time is untouched. */
  jumpWall(deltaUs: number): void {
    this.wallOffsetUs += deltaUs;
  }

  /** Sets the wall clock's offset from true wall time. */
  setWallOffset(offsetUs: number): void {
    this.wallOffsetUs = WALL_EPOCH_US + offsetUs;
  }
}
