import { describe, expect, it } from 'vitest';
import { BrokerMetadataCache } from '../../sim/cluster/cache.ts';
import { makeLayout } from '../../sim/cluster/layout.ts';
import { fullIsrMask, PartitionStateBatch, PartitionTable } from '../../sim/cluster/partitions.ts';

const layout = makeLayout({ partitions: 100, 'partitions.per.topic': 10, brokers: 5, 'replication.factor': 3 });

describe('PartitionTable', () => {
  it('starts with the preferred leader, epoch 0 and a full ISR', () => {
    const t = new PartitionTable(layout);
    for (let p = 0; p < t.size; p++) {
      expect(t.leader[p]).toBe(layout.replicas[p * 3]);
      expect(t.leaderEpoch[p]).toBe(0);
      expect(t.isr[p]).toBe(0b111);
      for (let i = 0; i < 3; i++) expect(t.isrHas(p, layout.replicas[p * 3 + i]!)).toBe(true);
      expect(t.isrSize(p)).toBe(3);
    }
  });

  it('maps brokers to replica slots and ISR bits', () => {
    const t = new PartitionTable(layout);
    const p = 17;
    const [r0, r1, r2] = [layout.replicas[p * 3]!, layout.replicas[p * 3 + 1]!, layout.replicas[p * 3 + 2]!];
    const outsider = [0, 1, 2, 3, 4].find((b) => b !== r0 && b !== r1 && b !== r2)!;
    t.set(p, r1, 4, 7, 0b010);
    expect(t.slotOf(p, r1)).toBe(1);
    expect(t.slotOf(p, outsider)).toBe(-1);
    expect(t.isrHas(p, r1)).toBe(true);
    expect(t.isrHas(p, r0)).toBe(false);
    expect(t.isrHas(p, outsider)).toBe(false);
    expect(t.isrSize(p)).toBe(1);
    const u = new PartitionTable(layout);
    u.copyFrom(t);
    expect([u.leader[p], u.leaderEpoch[p], u.partitionEpoch[p], u.isr[p]]).toEqual([r1, 4, 7, 0b010]);
  });

  it('refuses a replication factor the ISR byte cannot hold', () => {
    expect(fullIsrMask(8)).toBe(255);
    expect(() => new PartitionTable({ ...layout, replicationFactor: 9 })).toThrow(/replication factor/);
  });
});

describe('PartitionStateBatch', () => {
  it('holds up to its capacity', () => {
    const b = PartitionStateBatch.ofSize(2);
    b.push(3, 1, 2, 3, 5);
    b.pushFrom(new PartitionTable(layout), 9);
    expect(b.count).toBe(2);
    expect(b.full).toBe(true);
    expect([b.partition[0], b.leader[0], b.leaderEpoch[0], b.partitionEpoch[0], b.isr[0]]).toEqual([3, 1, 2, 3, 5]);
    expect(b.partition[1]).toBe(9);
    expect(() => b.push(0, 0, 0, 0, 0)).toThrow(/capacity/);
    b.clear();
    expect(b.count).toBe(0);
  });
});

describe('BrokerMetadataCache', () => {
  it('is empty after clear and full (initial state) before', () => {
    const c = new BrokerMetadataCache(layout, 2);
    expect(c.has(5)).toBe(true);
    expect(c.leaderOf(5)).toBe(layout.replicas[15]);
    c.clear();
    expect(c.has(5)).toBe(false);
    expect(c.leaderOf(5)).toBe(-1);
  });
});
