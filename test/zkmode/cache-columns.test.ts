import { describe, expect, it } from 'vitest';
import { BrokerMetadataCache } from '../../sim/cluster/cache.ts';
import { makeLayout } from '../../sim/cluster/layout.ts';
import { PartitionStateBatch } from '../../sim/cluster/partitions.ts';

const layout = makeLayout({ partitions: 100, 'partitions.per.topic': 10, brokers: 5, 'replication.factor': 3 });

describe('BrokerMetadataCache narrow columns', () => {
  it('starts a byte wide and widens a column when a value does not fit, keeping the others', () => {
    const c = new BrokerMetadataCache(layout, 1);
    expect(c.leaderEpoch).toBeInstanceOf(Int8Array);
    c.set(3, 2, 127, 5, 0b011);
    expect(c.leaderEpoch).toBeInstanceOf(Int8Array);
    c.set(4, 1, 128, 6, 0b101);
    expect(c.leaderEpoch).toBeInstanceOf(Int16Array);
    expect(c.partitionEpoch).toBeInstanceOf(Int8Array);
    c.set(5, 0, 1, 70_000, 0b001);
    expect(c.partitionEpoch).toBeInstanceOf(Int32Array);
    c.set(6, 4, -1, -40_000, 0);
    expect([c.leaderOf(3), c.leaderEpochOf(3), c.partitionEpochOf(3), c.isrOf(3)]).toEqual([2, 127, 5, 0b011]);
    expect([c.leaderOf(4), c.leaderEpochOf(4), c.partitionEpochOf(4), c.isrOf(4)]).toEqual([1, 128, 6, 0b101]);
    expect([c.leaderOf(5), c.leaderEpochOf(5), c.partitionEpochOf(5), c.isrOf(5)]).toEqual([0, 1, 70_000, 0b001]);
    expect([c.leaderOf(6), c.leaderEpochOf(6), c.partitionEpochOf(6), c.isrOf(6)]).toEqual([4, -1, -40_000, 0]);
    expect(c.leaderOf(7)).toBe(layout.replicas[21]);
  });

  it('applies dense and scattered batches as set() would, widening first', () => {
    const a = new BrokerMetadataCache(layout, 0);
    const b = new BrokerMetadataCache(layout, 0);
    const dense = PartitionStateBatch.ofSize(10);
    for (let i = 0; i < 10; i++) dense.push(20 + i, i % 5, i * 100, i * 10_000, i & 7);
    const scattered = PartitionStateBatch.ofSize(5);
    for (let i = 0; i < 5; i++) scattered.push(90 - i * 7, 4 - i, 300 + i, -2 - i, 1);
    a.setBatch(dense, dense.count);
    a.setBatch(scattered, scattered.count);
    for (const s of [dense, scattered]) for (let i = 0; i < s.count; i++) b.set(s.partition[i]!, s.leader[i]!, s.leaderEpoch[i]!, s.partitionEpoch[i]!, s.isr[i]!);
    for (let p = 0; p < layout.partitions; p++) {
      expect([a.leaderOf(p), a.leaderEpochOf(p), a.partitionEpochOf(p), a.isrOf(p)]).toEqual([b.leaderOf(p), b.leaderEpochOf(p), b.partitionEpochOf(p), b.isrOf(p)]);
    }
    expect(a.partitionEpochOf(29)).toBe(90_000);
    a.clear();
    expect(a.has(29)).toBe(false);
    expect(a.leaderOf(29)).toBe(-1);
  });
});
