import { swarmPlan } from '../core/index.ts';
import { CLUSTER_PARAMS } from '../sim/cluster/params.ts';
import { buildKafkaCluster, KAFKA_PARAMS } from '../sim/kafka.ts';
import { num } from '../sim/params.ts';
import { defineScenario } from '../sim/scenario.ts';

/**
 * Swarm testing: each seed draws its own fault mix and intensity (partitions of every shape,
 * crashes, pauses, lossy and clogged links, clock drift and jumps, process crashes) over every node
 * of a small cluster, then heals everything; the safety invariants are checked throughout and the
 * cluster must converge afterwards. Meant to be run over many seeds (`sim check`).
 */
export default defineScenario({
  name: 'swarm',
  description: 'random fault mix per seed over a small cluster, then heal: safety throughout, convergence after',
  modes: ['zk', 'kraft'],
  until: '10m',
  params: {
    ...KAFKA_PARAMS,
    partitions: { ...CLUSTER_PARAMS['partitions']!, default: 2000 },
    brokers: { ...CLUSTER_PARAMS['brokers']!, default: 5 },
    'swarm.start.ms': { default: 5_000, unit: 'ms', description: 'faults start after this', min: 0 },
    'swarm.end.ms': { default: 65_000, unit: 'ms', description: 'every fault is healed at this time', min: 1 },
  },
  build(ctx) {
    const handle = buildKafkaCluster(ctx);
    const nodes = ctx.sim.nodes.map((n) => n.name);
    const plan = swarmPlan(ctx.sim.rng.fork('swarm'), nodes, { startMs: num(ctx.params, 'swarm.start.ms'), endMs: num(ctx.params, 'swarm.end.ms') });
    return {
      plan,
      metrics: () => handle.tracker.metrics(),
      extra: () => ({ ...handle.tracker.extra(), ...handle.extra(), faultSteps: plan.steps.length }),
    };
  },
});
