import { describe, expect, it } from 'vitest';
import { failover, run } from './run.ts';

/**
 * kafka-facts §1.7: Kafka 1.1.0 loads the metadata of 100,000 partitions (2,000 topics × 50) in
 * 14 s at controller failover (28 s in 1.0.0), after async ZooKeeper (KAFKA-5642) and batching
 * (KAFKA-5027). That figure is the metadata load; the model's context load (election won → every
 * partition state read through the pipelined client and LeaderAndIsr/UpdateMetadata queued,
 * extra 'zk.controller.context.load.ms') must land within ±25 % of it. loadMs runs on until
 * onControllerFailover returns (the dead controller's partitions get leaders first).
 */
describe('ZK-mode failover calibration', () => {
  it('loadMs at 100k partitions (2,000 topics × 50) is within ±25 % of Kafka 1.1\'s published 14 s', () => {
    const r = run(failover, { partitions: 100_000, 'partitions.per.topic': 50 });
    expect(r.violation).toBeNull();
    expect(r.stop.reason).toBe('stopped');
    const loadMs = r.extra['zk.controller.context.load.ms'] as number;
    expect(r.metrics.phases.loadMs!).toBeGreaterThanOrEqual(loadMs);
    expect(loadMs).toBeGreaterThanOrEqual(14_000 * 0.75);
    expect(loadMs).toBeLessThanOrEqual(14_000 * 1.25);
  });

  it('the ZooKeeper round trips matter once the window shrinks: loadMs with zookeeper.max.in.flight.requests=1 exceeds that with 10 (20k partitions)', () => {
    const ten = run(failover, { partitions: 20_000, 'zookeeper.max.in.flight.requests': 10 });
    const one = run(failover, { partitions: 20_000, 'zookeeper.max.in.flight.requests': 1 });
    for (const r of [ten, one]) {
      expect(r.violation).toBeNull();
      expect(r.stop.reason).toBe('stopped');
    }
    // Same reads either way; only how many are outstanding at once differs.
    expect(one.extra['zk.controller.zk.reads']).toBe(ten.extra['zk.controller.zk.reads']);
    expect(one.metrics.phases.loadMs!).toBeGreaterThan(1.5 * ten.metrics.phases.loadMs!);
  });
});
