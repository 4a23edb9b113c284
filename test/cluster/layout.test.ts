import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assignTopic, hostedBy, initialLeaders, makeLayout, preferredBy, replicaIndex, replicasOf, topicOf } from '../../sim/cluster/layout.ts';
import { UsageError } from '../../sim/errors.ts';

const params = (partitions: number, ppt: number, brokers: number, rf: number) => ({ partitions, 'partitions.per.topic': ppt, brokers, 'replication.factor': rf });

const shapes = fc
  .record({ brokers: fc.integer({ min: 1, max: 16 }), partitions: fc.integer({ min: 1, max: 3000 }), ppt: fc.integer({ min: 1, max: 120 }), rf: fc.integer({ min: 1, max: 8 }) })
  .filter((s) => s.rf <= s.brokers);

describe('makeLayout (Kafka rack-unaware assignment)', () => {
  it('has ceil(partitions / partitions.per.topic) topics and distinct replicas per partition', () => {
    fc.assert(
      fc.property(shapes, (s) => {
        const l = makeLayout(params(s.partitions, s.ppt, s.brokers, s.rf));
        expect(l.topics).toBe(Math.ceil(s.partitions / s.ppt));
        expect(l.replicas.length).toBe(s.partitions * s.rf);
        let bad = -1;
        for (let p = 0; p < s.partitions && bad < 0; p++) {
          const r = replicasOf(l, p);
          if (new Set(r).size !== s.rf || r.some((b) => !(b >= 0 && b < s.brokers))) bad = p;
        }
        expect(bad).toBe(-1);
      }),
      { numRuns: 150 },
    );
  });

  it('within a topic: leaders go round-robin and every replica slot is balanced to within one', () => {
    fc.assert(
      fc.property(shapes, (s) => {
        const l = makeLayout(params(s.partitions, s.ppt, s.brokers, s.rf));
        for (let t = 0; t < l.topics; t++) {
          const first = t * s.ppt;
          const end = Math.min(first + s.ppt, s.partitions);
          let notRoundRobin = -1;
          for (let p = first + 1; p < end; p++) if (l.replicas[p * s.rf] !== (l.replicas[(p - 1) * s.rf]! + 1) % s.brokers) notRoundRobin = p;
          expect(notRoundRobin).toBe(-1);
          for (let slot = 0; slot < s.rf; slot++) {
            const counts = new Array<number>(s.brokers).fill(0);
            for (let p = first; p < end; p++) counts[l.replicas[p * s.rf + slot]!]!++;
            expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
          }
        }
      }),
      { numRuns: 150 },
    );
  });

  it('spreads replicas and leaders evenly over the cluster (within 1 % at 200k partitions)', () => {
    const l = makeLayout(params(200_000, 50, 12, 3));
    const replicas = new Array<number>(12).fill(0);
    const leaders = new Array<number>(12).fill(0);
    for (let p = 0; p < l.partitions; p++) {
      leaders[l.replicas[p * 3]!]!++;
      for (let i = 0; i < 3; i++) replicas[l.replicas[p * 3 + i]!]!++;
    }
    const mean = (200_000 * 3) / 12;
    for (const c of replicas) expect(Math.abs(c - mean) / mean).toBeLessThan(0.01);
    for (const c of leaders) expect(Math.abs(c - mean / 3) / (mean / 3)).toBeLessThan(0.01);
    expect(topicOf(l, 199_999)).toBe(3999);
  });

  it('is a function of the parameters only', () => {
    const a = makeLayout(params(50_000, 50, 12, 3));
    const b = makeLayout(params(50_000, 50, 12, 3));
    expect(Buffer.from(a.replicas.buffer).equals(Buffer.from(b.replicas.buffer))).toBe(true);
    // and not the same for every topic: the start index varies per topic, as Kafka's random draw does
    const starts = new Set<number>();
    for (let t = 0; t < 100; t++) starts.add(a.replicas[t * 50 * 3]!);
    expect(starts.size).toBeGreaterThan(1);
  });

  it('builds 2M partitions × rf 3', () => {
    const l = makeLayout(params(2_000_000, 50, 12, 3));
    expect(l.topics).toBe(40_000);
    expect(l.replicas.length).toBe(6_000_000);
  });

  it('refuses impossible shapes as usage errors', () => {
    expect(() => makeLayout(params(10, 5, 2, 3))).toThrow(UsageError);
    expect(() => makeLayout(params(10, 5, 12, 9))).toThrow(UsageError);
    expect(() => makeLayout(params(0, 5, 12, 3))).toThrow(UsageError);
    expect(() => makeLayout(params(10, 2.5, 12, 3))).toThrow(UsageError);
  });
});

/** The assignment as Kafka states it, one division per replica (what assignTopic computes with counters). */
function referenceAssign(out: Int32Array, firstPartition: number, count: number, brokers: number, rf: number, startIndex: number, replicaShift: number): void {
  let shift = replicaShift;
  for (let i = 0; i < count; i++) {
    if (i > 0 && i % brokers === 0) shift++;
    const first = (i + startIndex) % brokers;
    out[(firstPartition + i) * rf] = first;
    for (let j = 0; j < rf - 1; j++) out[(firstPartition + i) * rf + 1 + j] = (first + 1 + ((shift + j) % (brokers - 1))) % brokers;
  }
}

describe('assignTopic and the per-layout indexes', () => {
  it('assignTopic equals the formula with a division per replica', () => {
    const shape = fc
      .record({ brokers: fc.integer({ min: 1, max: 16 }), count: fc.integer({ min: 1, max: 200 }), rf: fc.integer({ min: 1, max: 8 }), start: fc.nat(), shift: fc.nat() })
      .filter((s) => s.rf <= s.brokers);
    fc.assert(
      fc.property(shape, (s) => {
        const start = s.start % s.brokers;
        const shift = s.shift % s.brokers;
        const a = new Int32Array((s.count + 3) * s.rf);
        const b = new Int32Array((s.count + 3) * s.rf);
        assignTopic(a, 3, s.count, s.brokers, s.rf, start, shift);
        referenceAssign(b, 3, s.count, s.brokers, s.rf, start, shift);
        expect(Array.from(a)).toEqual(Array.from(b));
      }),
      { numRuns: 300 },
    );
  });

  it('initialLeaders, hostedBy, preferredBy and replicaIndex agree with the replicas', () => {
    fc.assert(
      fc.property(shapes, (s) => {
        const l = makeLayout(params(s.partitions, s.ppt, s.brokers, s.rf));
        const first = initialLeaders(l);
        const hosted = hostedBy(l);
        const preferred = preferredBy(l);
        const index = replicaIndex(l);
        expect(initialLeaders(l)).toBe(first);
        expect(hostedBy(l)).toBe(hosted);
        expect(index.hosted).toBe(hosted);
        for (let b = 0; b < s.brokers; b++) {
          const wantHosted: number[] = [];
          const wantPreferred: number[] = [];
          for (let p = 0; p < s.partitions; p++) {
            if (replicasOf(l, p).includes(b)) wantHosted.push(p);
            if (l.replicas[p * s.rf] === b) wantPreferred.push(p);
          }
          expect(Array.from(hosted[b]!)).toEqual(wantHosted);
          expect(Array.from(preferred[b]!)).toEqual(wantPreferred);
        }
        for (let p = 0; p < s.partitions; p++) {
          expect(first[p]).toBe(l.replicas[p * s.rf]);
          for (let i = 0; i < s.rf; i++) expect(hosted[l.replicas[p * s.rf + i]!]![index.local[p * s.rf + i]!]).toBe(p);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('initialLeaders of a layout not made by makeLayout: the first replica of each partition', () => {
    const l = { brokers: 3, partitions: 4, topics: 1, partitionsPerTopic: 4, replicationFactor: 2, replicas: Int32Array.of(2, 0, 1, 2, 0, 1, 1, 0) };
    expect(Array.from(initialLeaders(l))).toEqual([2, 1, 0, 1]);
    expect(Array.from(preferredBy(l)[1]!)).toEqual([1, 3]);
  });
});
