import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventHeap } from '../../core/heap.ts';

type Op = { readonly op: 'push'; readonly timeUs: number } | { readonly op: 'pop' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  // A narrow time range makes equal times common, so the FIFO tie-break is exercised.
  fc.record({ op: fc.constant('push' as const), timeUs: fc.integer({ min: 0, max: 20 }) }),
  fc.record({ op: fc.constant('push' as const), timeUs: fc.integer({ min: 0, max: 2 ** 40 }) }),
  fc.constant({ op: 'pop' as const }),
);

describe('EventHeap against a sorted-array model', () => {
  it('pops entries in (time, insertion) order for any sequence of pushes and pops', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 400 }), fc.integer({ min: 1, max: 8 }), (ops, cap) => {
        const heap = new EventHeap(cap); // small capacities force growth mid-sequence
        const model: { timeUs: number; seq: number; slot: number }[] = [];
        let seq = 0;
        for (const o of ops) {
          if (o.op === 'push') {
            const slot = seq;
            heap.push(o.timeUs, seq, slot);
            model.push({ timeUs: o.timeUs, seq, slot });
            seq++;
            model.sort((a, b) => a.timeUs - b.timeUs || a.seq - b.seq);
          } else {
            const expected = model.shift();
            expect(heap.peekTime()).toBe(expected?.timeUs ?? Infinity);
            expect(heap.peekSlot()).toBe(expected?.slot ?? -1);
            expect(heap.pop()).toBe(expected?.slot ?? -1);
          }
          expect(heap.size).toBe(model.length);
        }
        // Drain: the rest must come out in model order too.
        for (const e of model) expect(heap.pop()).toBe(e.slot);
        expect(heap.pop()).toBe(-1);
        expect(heap.peekTime()).toBe(Infinity);
      }),
      { numRuns: 300 },
    );
  });

  it('pops equal times strictly first-in first-out', () => {
    const heap = new EventHeap(2);
    for (let i = 0; i < 1000; i++) heap.push(i % 3 === 0 ? 5 : 7, i, i);
    const out: number[] = [];
    while (heap.size > 0) out.push(heap.pop());
    const fives = out.filter((s) => s % 3 === 0);
    const sevens = out.filter((s) => s % 3 !== 0);
    expect(out).toEqual([...fives, ...sevens]);
    expect(fives).toEqual([...fives].sort((a, b) => a - b));
    expect(sevens).toEqual([...sevens].sort((a, b) => a - b));
  });
});
