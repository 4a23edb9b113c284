import { describe, expect, it } from 'vitest';
import type { TraceRecord } from '../../core/index.ts';
import controlledShutdown from '../../scenarios/controlled-shutdown.ts';
import { runOnce } from '../../sim/run.ts';
import { defineScenario } from '../../sim/scenario.ts';

/**
 * A broker that exits cleanly after its controlled shutdown closes its ZooKeeper session
 * (KafkaServer.shutdown → zkClient.close → closeSession): the server deletes /brokers/ids/<id> at
 * once and the controller handles the BrokerChange within milliseconds, not after
 * zookeeper.session.timeout.ms as after a kill -9.
 */
const observed = defineScenario({
  ...controlledShutdown,
  name: 'zk-clean-exit-test',
  build(ctx) {
    const built = controlledShutdown.build(ctx);
    const seen = { exitUs: -1, brokerFailureUs: -1, expiries: 0 };
    const prev = ctx.sim.trace.sink;
    ctx.sim.trace.sink = (r: TraceRecord) => {
      prev?.(r);
      if (r.kind === 'crash' && seen.exitUs < 0) seen.exitUs = r.atUs;
      if (r.kind === 'state' && r.label === 'controller.broker.failure' && seen.exitUs >= 0 && seen.brokerFailureUs < 0) seen.brokerFailureUs = r.atUs;
      if (r.kind === 'state' && r.label === 'zk.session.expire') seen.expiries++;
    };
    return { ...built, extra: () => ({ ...built.extra!(), 'test.gapMs': (seen.brokerFailureUs - seen.exitUs) / 1000, 'test.expiries': seen.expiries }) };
  },
});

describe('ZK mode: a clean broker exit closes its session', () => {
  it('the controller learns of the exit at once, and no session expires', () => {
    const r = runOnce({ file: 'test', scenario: observed, seed: 42, mode: 'zk', overrides: { partitions: 20000 }, untilUs: 10 * 60 * 1_000_000 });
    expect(r.violation).toBeNull();
    expect(r.extra['shutdownClean']).toBe('yes');
    const gap = r.extra['test.gapMs'] as number;
    expect(gap).toBeGreaterThanOrEqual(0);
    expect(gap).toBeLessThan(1000);
    expect(r.extra['test.expiries']).toBe(0);
  });
});
