import { describe, expect, it } from 'vitest';
import { PartitionStateStore } from '../../sim/zookeeper/datatree.ts';

describe('PartitionStateStore narrow columns', () => {
  it('widens a column for a value it cannot hold and keeps every other value', () => {
    const s = new PartitionStateStore(50);
    expect(s.version[7]).toBe(-1);
    s.put(7, 3, 2, 1, 0b011, 0);
    s.put(8, 4, 200, 1, 0b101, 5);
    s.set(9, { leader: 40_000, leaderEpoch: 1, controllerEpoch: 70_000, isr: 1 }, 100_000);
    expect(s.leaderEpoch).toBeInstanceOf(Int16Array);
    expect(s.leader).toBeInstanceOf(Int32Array);
    expect(s.version).toBeInstanceOf(Int32Array);
    expect(s.get(7)).toEqual({ leader: 3, leaderEpoch: 2, controllerEpoch: 1, isr: 0b011, version: 0 });
    expect(s.get(8)).toEqual({ leader: 4, leaderEpoch: 200, controllerEpoch: 1, isr: 0b101, version: 5 });
    expect(s.get(9)).toEqual({ leader: 40_000, leaderEpoch: 1, controllerEpoch: 70_000, isr: 1, version: 100_000 });
    expect(s.version[10]).toBe(-1);
  });

  it('fills a deferred store when read, and a copy of it the same way', () => {
    const s = new PartitionStateStore(20);
    s.defer((ps) => {
      for (let p = 0; p < 20; p++) ps.put(p, p % 3, 0, 1, 0b111, p * 1000);
    });
    const c = new PartitionStateStore(20, s);
    expect(c.get(19)).toEqual({ leader: 1, leaderEpoch: 0, controllerEpoch: 1, isr: 0b111, version: 19_000 });
    expect(s.get(19)).toEqual(c.get(19));
    const d = new PartitionStateStore(20, c);
    expect(d.get(5)).toEqual({ leader: 2, leaderEpoch: 0, controllerEpoch: 1, isr: 0b111, version: 5000 });
  });
});
