import { describe, expect, it } from 'vitest';
import { failover, run } from './run.ts';

describe('ZK-mode controller failover', () => {
  it('a new controller is elected after the session expires, reloads, and the cluster converges', () => {
    const r = run(failover, { partitions: 2000 });
    expect(r.violation).toBeNull();
    expect(r.stop.reason).toBe('stopped');
    const m = r.metrics;
    // Detection is the session timeout (18 s) minus the time since the last ping, tick-bucketed.
    expect(m.phases.detectMs!).toBeGreaterThan(12_000);
    expect(m.phases.detectMs!).toBeLessThanOrEqual(20_000);
    expect(m.recoveryMs).not.toBeNull();
    expect(r.extra['zk.controller.epoch']).toBe(2);
    expect(r.extra['zk.controller.broker']).not.toBe(0);
  });

  it('reload work grows with partitions (2k vs 20k: loadMs roughly x10)', () => {
    const small = run(failover, { partitions: 2000 });
    const big = run(failover, { partitions: 20000 });
    const ratio = big.metrics.phases.loadMs! / small.metrics.phases.loadMs!;
    expect(ratio).toBeGreaterThan(5);
    expect(ratio).toBeLessThan(20);
    expect((big.extra['zk.controller.zk.reads'] as number) / (small.extra['zk.controller.zk.reads'] as number)).toBeGreaterThan(8);
  });

  it('a crashed broker: its session expires, the controller moves its leaders and shrinks ISRs', () => {
    const r = run(failover, { partitions: 2000, 'kill.broker': 5 });
    expect(r.violation).toBeNull();
    expect(r.stop.reason).toBe('stopped');
    expect(r.extra['zk.controller.epoch']).toBe(1);
    // Every partition broker 5 held in an ISR was rewritten (read + conditional write).
    expect(r.extra['zk.controller.zk.writes'] as number).toBeGreaterThan(400);
    expect(r.metrics.unavailablePartitionMs!).toBeGreaterThan(0);
    expect(r.extra['unavailableAtEnd']).toBe(0);
  });
});
