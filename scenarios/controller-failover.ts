import { buildKafkaCluster, KAFKA_PARAMS } from '../sim/kafka.ts';
import { num } from '../sim/params.ts';
import { defineScenario } from '../sim/scenario.ts';

/**
 * The active controller crashes (kill -9 of its process) in a steady cluster. ZooKeeper mode: the
 * controller is also a broker; nothing notices until its ZooKeeper session expires, then every broker
 * races to create /controller and the winner reloads the whole cluster state from ZooKeeper and
 * re-sends it to every broker. KRaft mode (isolated controllers by default): the followers notice the
 * missing leader through their fetch timeout, elect a new one, and its controller, a hot standby that
 * has replayed the metadata log all along, activates once the new epoch's first record commits.
 */
export default defineScenario({
  name: 'controller-failover',
  description: 'crash of the active controller: failover time and metadata divergence, ZK vs KRaft',
  modes: ['zk', 'kraft'],
  until: '30m',
  params: {
    ...KAFKA_PARAMS,
    'fault.at.ms': { default: 10_000, unit: 'ms', description: 'when the active controller is killed', source: 'scenario setting: after the warm-started cluster has run a while', min: 0 },
  },
  build(ctx) {
    const handle = buildKafkaCluster(ctx);
    return {
      plan: {
        steps: [{ atMs: num(ctx.params, 'fault.at.ms'), action: { type: 'crash', node: '@activeController', bind: 'old' }, main: true }],
      },
      metrics: () => handle.tracker.metrics(),
      extra: () => ({ ...handle.tracker.extra(), ...handle.extra() }),
    };
  },
});
