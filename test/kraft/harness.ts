import { msToUs, Simulation, type FaultPlan } from '../../core/index.ts';
import { CLUSTER_PARAMS } from '../../sim/cluster/params.ts';
import { buildKraftCluster, KRAFT_BUGS, KRAFT_PARAMS, type KraftClusterHandle } from '../../sim/kraft/cluster.ts';
import { defaults, type ParamValue } from '../../sim/params.ts';

export const TEST_PARAMS = {
  ...CLUSTER_PARAMS,
  ...KRAFT_PARAMS,
  bugs: { default: '', unit: '', description: 'bugs', choices: KRAFT_BUGS, list: true },
};

/** A small KRaft cluster (3,000 partitions, 6 brokers unless overridden) for tests. */
export function kraft(seed: number, overrides: Record<string, ParamValue> = {}, opts: { safety?: boolean | readonly string[] } = {}): { sim: Simulation; h: KraftClusterHandle; run(untilMs: number, plan?: FaultPlan): ReturnType<Simulation['run']> } {
  const sim = new Simulation({ seed: String(seed) });
  const params = { ...defaults(TEST_PARAMS), partitions: 3000, brokers: 6, ...overrides };
  const h = buildKraftCluster({ sim, params, mode: 'kraft', seed }, opts);
  let installed = false;
  return {
    sim,
    h,
    run(untilMs: number, plan?: FaultPlan) {
      if (!installed) {
        sim.installFaults(plan ?? { steps: [] });
        installed = true;
      }
      return sim.run({ untilUs: msToUs(untilMs) });
    },
  };
}
