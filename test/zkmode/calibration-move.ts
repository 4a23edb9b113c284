import { CLUSTER_PARAMS } from '../../sim/cluster/params.ts';
import type { ParamValue } from '../../sim/params.ts';
import type { RunResult } from '../../sim/result.ts';
import { runOnce } from '../../sim/run.ts';
import { defineScenario } from '../../sim/scenario.ts';
import { buildZkCluster, ZK_PARAMS } from '../../sim/zkmode/cluster.ts';

/**
 * A controller move with no broker lost, as the published ZK-mode failover measurements made it: an
 * operator deletes /controller at 10 s, every broker's watch fires, the old controller resigns and
 * the winner runs onControllerFailover. loadMs is then election → "Ready to serve" (onControllerFailover
 * returned); extra zk.controller.context.load.ms is the reload alone.
 */
export const controllerMove = defineScenario({
  name: 'zk-controller-move-test',
  description: 'test: /controller deleted by an operator; the controller moves, no broker is lost',
  modes: ['zk'],
  until: '30m',
  params: { ...CLUSTER_PARAMS, ...ZK_PARAMS },
  build(ctx) {
    const h = buildZkCluster(ctx);
    return {
      plan: { steps: [{ atMs: 10_000, action: { type: 'op', op: 'delete-controller', node: '@activeController' }, main: true }] },
      metrics: () => h.tracker.metrics(),
      extra: () => ({ ...h.tracker.extra(), ...h.extra() }),
    };
  },
});

export function runMove(overrides: Record<string, ParamValue>): RunResult {
  return runOnce({ file: 'test', scenario: controllerMove, seed: 42, mode: 'zk', overrides, untilUs: 30 * 60 * 1_000_000 });
}
