import seedrandom from 'seedrandom';

/**
 * Seeded random streams. One algorithm (xor4096) at one call site, always seeded with a string
 * (seedrandom treats 42 and '42' differently). Child streams are derived from the parent's seed
 * string and a stable label, never from the parent's draws, so adding a stream or a node never
 * shifts another stream's sequence. This is the only module that imports seedrandom.
 */
export class Rng {
  readonly seed: string;
  private readonly prng: seedrandom.PRNG;

  constructor(seed: string) {
    this.seed = seed;
    this.prng = seedrandom.xor4096(seed);
  }

  /** A child stream named by a stable label, e.g. 'net', 'node/broker-3', 'faults'. */
  fork(label: string): Rng {
    return new Rng(`${this.seed}/${label}`);
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.prng();
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.prng() * n);
  }

  /** Uniform integer in [lo, hi). */
  range(lo: number, hi: number): number {
    return lo + Math.floor(this.prng() * (hi - lo));
  }

  bool(p: number): boolean {
    return this.prng() < p;
  }

  /** Exponentially distributed with the given mean. */
  exp(mean: number): number {
    return -mean * Math.log(1 - this.prng());
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('Rng.pick: empty list');
    return items[this.int(items.length)]!;
  }

  shuffle<T>(items: readonly T[]): T[] {
    const out = items.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = out[i]!;
      out[i] = out[j]!;
      out[j] = t;
    }
    return out;
  }
}
