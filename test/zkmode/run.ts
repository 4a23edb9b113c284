import { Simulation } from '../../core/index.ts';
import { CLUSTER_PARAMS } from '../../sim/cluster/params.ts';
import { defaults, type ParamSpecs, type ParamValue } from '../../sim/params.ts';
import type { RunResult } from '../../sim/result.ts';
import { runOnce } from '../../sim/run.ts';
import { defineScenario, type Scenario } from '../../sim/scenario.ts';
import { buildZkCluster, ZK_BUGS, ZK_PARAMS } from '../../sim/zkmode/cluster.ts';
import zombie from '../../scenarios/zombie-controller.ts';

/** The parameters of a ZK-mode test scenario: cluster shape, cost model, ZK-mode configs, bugs. */
export const ZK_TEST_PARAMS: ParamSpecs = { ...CLUSTER_PARAMS, ...ZK_PARAMS, bugs: { default: '', unit: '', description: 'bugs', choices: [...ZK_BUGS], list: true } };

/** Crash of the active controller (what scenarios/controller-failover.ts does in ZK mode). */
export const failover: Scenario = defineScenario({
  name: 'zk-failover-test',
  description: 'test: crash of the active controller in ZK mode',
  modes: ['zk'],
  until: '30m',
  params: {
    ...CLUSTER_PARAMS,
    ...ZK_PARAMS,
    'fault.at.ms': { default: 10_000, unit: 'ms', description: 'crash time', min: 0 },
    'kill.broker': { default: -1, unit: 'id', description: 'crash this broker instead of the controller', min: -1 },
    bugs: { default: '', unit: '', description: 'bugs', choices: [...ZK_BUGS], list: true },
  },
  build(ctx) {
    const h = buildZkCluster(ctx);
    const k = ctx.params['kill.broker'] as number;
    const node = k >= 0 ? `broker-${k}` : '@activeController';
    return {
      plan: { steps: [{ atMs: ctx.params['fault.at.ms'] as number, action: { type: 'crash', node }, main: true }] },
      metrics: () => h.tracker.metrics(),
      extra: () => ({ ...h.tracker.extra(), ...h.extra() }),
    };
  },
});

export function run(s: Scenario, overrides: Record<string, ParamValue>, seed = 42): RunResult {
  return runOnce({ file: 'test', scenario: s, seed, mode: 'zk', overrides, untilUs: 30 * 60 * 1_000_000 });
}

export { zombie };
void Simulation;
void defaults;
