import { describe, expect, it } from 'vitest';
import type { FaultStep } from '../../core/index.ts';
import type { ParamValue } from '../../sim/params.ts';
import { runOnce } from '../../sim/run.ts';
import { defineScenario, type Scenario } from '../../sim/scenario.ts';
import { buildZkCluster } from '../../sim/zkmode/cluster.ts';
import { failover, run, zombie, ZK_TEST_PARAMS } from './run.ts';

function planned(name: string, steps: (brokers: number) => FaultStep[]): Scenario {
  return defineScenario({
    name,
    description: `test: ${name}`,
    modes: ['zk'],
    until: '30m',
    params: ZK_TEST_PARAMS,
    build(ctx) {
      const h = buildZkCluster(ctx);
      return { plan: { steps: steps(ctx.params['brokers'] as number) }, metrics: () => h.tracker.metrics(), extra: () => ({ ...h.tracker.extra(), ...h.extra() }) };
    },
  });
}

const go = (s: Scenario, overrides: Record<string, ParamValue>, seed = 42) => runOnce({ file: 'test', scenario: s, seed, mode: 'zk', overrides, untilUs: 200_000_000 });

/** Broker 5 stops reaching brokers 1–11 (so leaders shrink it out of ISRs), then broker 4 dies. */
const outsideIsr = planned('outside-isr', (brokers) => {
  const others: string[] = [];
  for (let b = 1; b < brokers; b++) if (b !== 5) others.push(`broker-${b}`);
  return [
    { atMs: 5_000, action: { type: 'partition', shape: { type: 'one-way', from: ['broker-5'], to: others } } },
    { atMs: 55_000, action: { type: 'crash', node: 'broker-4' }, main: true },
  ];
});

describe('ZK-mode bug toggles', () => {
  it('zk.no-leader-epoch-bump: leaders moved off a dead broker keep the old epoch', () => {
    const ok = run(failover, { partitions: 2000, 'kill.broker': 5 });
    expect(ok.violation).toBeNull();
    const bug = run(failover, { partitions: 2000, 'kill.broker': 5, bugs: 'zk.no-leader-epoch-bump' });
    expect(bug.violation?.invariant).toBe('zk.leader-epoch-monotonic');
  });

  it('zk.elect-outside-isr: a live replica shrunk out of the ISR is elected leader', () => {
    const ok = go(outsideIsr, { partitions: 2400 });
    expect(ok.violation).toBeNull();
    const bug = go(outsideIsr, { partitions: 2400, bugs: 'zk.elect-outside-isr' });
    expect(bug.violation?.invariant).toBe('zk.leader-in-isr');
  });

  it('zk.no-controller-epoch-check: brokers that saw epoch 2 apply the zombie controller\'s late requests', () => {
    for (const seed of [1, 2, 3]) {
      const ok = run(zombie, {}, seed);
      expect(ok.violation).toBeNull();
      expect(ok.extra['zk.broker.rejected.stale.controller'] as number).toBeGreaterThan(0);
      const bug = run(zombie, { bugs: 'zk.no-controller-epoch-check' }, seed);
      expect(bug.violation?.invariant).toBe('broker.no-stale-controller-epoch');
    }
  });
});
