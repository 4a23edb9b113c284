import { select } from '../core/index.ts';
import { buildKafkaCluster, KAFKA_PARAMS } from '../sim/kafka.ts';
import { num, str } from '../sim/params.ts';
import { defineScenario } from '../sim/scenario.ts';

/**
 * kill -9 of a broker that is not the active controller, in a steady cluster.
 * ZooKeeper mode: nothing notices until the broker's ZooKeeper session expires
 * (zookeeper.session.timeout.ms) and its /brokers/ids/<id> ephemeral is deleted; the controller's
 * BrokerChange watch fires (detect) and onBrokerFailure moves the leaders it held to other ISR
 * members and shrinks it out of the ISRs, one conditional write of a partition-state znode each,
 * then sends LeaderAndIsr and UpdateMetadata to the live brokers (propagate). The controller does
 * not change: no election, no load.
 * KRaft mode: the active controller fences the broker once no heartbeat has come for
 * broker.session.timeout.ms (detect), writing the fence and PartitionChangeRecords that move its
 * leaderships and shrink the ISRs to the metadata log; the brokers apply them as they fetch the
 * log (propagate).
 */
export default defineScenario({
  name: 'broker-crash',
  description: 'kill -9 of a broker that is not the active controller: leaders moved, ZK vs KRaft',
  modes: ['zk', 'kraft'],
  until: '30m',
  params: {
    ...KAFKA_PARAMS,
    'fault.at.ms': { default: 10_000, unit: 'ms', description: 'when the broker is killed', source: 'scenario setting: after the warm-started cluster has run a while', min: 0 },
    'victim.pick': { default: 'lowest', unit: '', description: 'which broker among those that are not the active controller: the lowest id, or a draw from the run\'s fault stream', choices: ['lowest', 'random'] },
  },
  build(ctx) {
    const handle = buildKafkaCluster(ctx);
    const victim = select('@brokers', { except: '@activeController', pick: str(ctx.params, 'victim.pick') as 'lowest' | 'random' });
    return {
      plan: { steps: [{ atMs: num(ctx.params, 'fault.at.ms'), action: { type: 'crash', node: victim, bind: 'victim' }, main: true }] },
      metrics: () => handle.tracker.metrics(),
      extra: () => ({ ...handle.tracker.extra(), ...handle.extra() }),
    };
  },
});
