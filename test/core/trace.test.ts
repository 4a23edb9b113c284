import { describe, expect, it } from 'vitest';
import { Trace, type TraceRecord } from '../../core/index.ts';

describe('trace hash', () => {
  const times = [0, 1, 999_999, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 5, 3 * 2 ** 40 + 17, 2 ** 53 - 1];

  it('recordTimer hashes exactly as record(t, "timer", node, -1, label, 0)', () => {
    const a = new Trace();
    const b = new Trace();
    for (const [i, t] of times.entries()) {
      for (const label of ['hold', 'zk-client-tick', 'hold', '']) {
        a.record(t, 'timer', i, -1, label, 0);
        b.recordTimer(t, i, label);
        a.record(t, 'deliver', i, 3, 'Fetch', 1.5);
        b.record(t, 'deliver', i, 3, 'Fetch', 1.5);
      }
    }
    expect(b.hash()).toBe(a.hash());
    expect(b.count).toBe(a.count);
    expect([b.lastKind, b.lastLabel, b.lastNode]).toEqual([a.lastKind, a.lastLabel, a.lastNode]);
  });

  it('recordTimer reaches the listener and the sink as record does', () => {
    const seen: unknown[][] = [];
    const recs: TraceRecord[] = [];
    const t = new Trace();
    t.listener = (...args) => seen.push(args);
    t.sink = (rec) => recs.push(rec);
    t.recordTimer(5, 2, 'hold');
    expect(seen).toEqual([[5, 'timer', 2, -1, 'hold', 0]]);
    expect(recs).toEqual([{ atUs: 5, kind: 'timer', node: 2, peer: -1, label: 'hold', value: 0 }]);
    const plain = new Trace();
    plain.record(5, 'timer', 2, -1, 'hold', 0);
    expect(t.hash()).toBe(plain.hash());
  });

  it('the low time word is the time modulo 2^32', () => {
    // Fixed values: the encoding is the trace's identity, so these must never move.
    const t = new Trace();
    for (const at of times) t.record(at, 'state', 0, -1, 'x', at % 7);
    expect(t.hash()).toBe('6bd0c23040cf0b30');
  });
});
