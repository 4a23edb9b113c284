import { select } from '../core/index.ts';
import { buildKafkaCluster, KAFKA_PARAMS } from '../sim/kafka.ts';
import { num } from '../sim/params.ts';
import { defineScenario } from '../sim/scenario.ts';

/**
 * A broker that is not the active controller is killed (kill -9) and its process restarted a while
 * later (down.ms), as a supervisor does.
 * ZooKeeper mode: with down.ms below zookeeper.session.timeout.ms the restarted broker finds its old
 * /brokers/ids/<id> ephemeral still there and re-registers once the old session expires; the
 * controller sees the deletion and the re-creation, tells the bounce from its new czxid (broker
 * epoch, KIP-380), moves the leaders off the old incarnation and sends the new one LeaderAndIsr for
 * its replicas (onBrokerStartup); it rejoins the ISRs as its fetchers catch up (AlterPartition).
 * KRaft mode: the active controller fences the silent broker after broker.session.timeout.ms and
 * moves its leaderships; the restarted broker registers with a new incarnation, replays the metadata
 * log from its snapshot and is unfenced once caught up to its registration record; then its replicas
 * fetch and rejoin the ISRs.
 */
export default defineScenario({
  name: 'broker-bounce',
  description: 'a broker (not the controller) killed and restarted: leaders moved away, broker back',
  modes: ['zk', 'kraft'],
  until: '30m',
  params: {
    ...KAFKA_PARAMS,
    'fault.at.ms': { default: 10_000, unit: 'ms', description: 'when the broker is killed', source: 'scenario setting: after the warm-started cluster has run a while', min: 0 },
    'down.ms': {
      default: 10_000,
      unit: 'ms',
      description: 'from the kill to the restart of the broker process',
      source: 'estimate: a supervisor restart (systemd RestartSec) plus JVM start and log recovery ≈ 10 s; between broker.session.timeout.ms (9 s) and zookeeper.session.timeout.ms (18 s)',
      min: 0,
    },
  },
  build(ctx) {
    const handle = buildKafkaCluster(ctx);
    const at = num(ctx.params, 'fault.at.ms');
    return {
      plan: {
        steps: [
          { atMs: at, action: { type: 'crash', node: select('@brokers', { except: '@activeController', pick: 'lowest' }), bind: 'victim' }, main: true },
          { atMs: at + num(ctx.params, 'down.ms'), action: { type: 'restart', node: '$victim' } },
        ],
      },
      metrics: () => handle.tracker.metrics(),
      extra: () => ({ ...handle.tracker.extra(), ...handle.extra() }),
    };
  },
});
