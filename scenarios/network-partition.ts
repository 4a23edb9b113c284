import { select, type PartitionSpec } from '../core/index.ts';
import { buildKafkaCluster, KAFKA_PARAMS } from '../sim/kafka.ts';
import { num, str } from '../sim/params.ts';
import { defineScenario } from '../sim/scenario.ts';

/** What each variant cuts; '@quorum' is ZooKeeper in ZK mode and the controller voters in KRaft. */
const VARIANTS: Record<string, PartitionSpec> = {
  'controller-isolated': { type: 'isolate', node: '@activeController' },
  'controller-from-quorum': { type: 'symmetric', a: ['@activeController'], b: [select('@quorum', { except: '@activeController' })] },
  'broker-from-controller': { type: 'symmetric', a: [select('@brokers', { except: '@activeController', pick: 'lowest' })], b: ['@activeController'] },
};

/**
 * A network partition, healed after partition.ms. `variant`:
 * - controller-isolated: the active controller is cut off from every node. ZK mode: its ZooKeeper
 *   session expires, /controller is deleted and another broker is elected and loads the cluster
 *   from ZooKeeper; the old controller, which also leads partitions as a broker, learns of its
 *   expiry only after the heal (a zombie until then). KRaft: the other voters' fetch timeouts
 *   expire and they elect a leader among themselves; the cut-off leader resigns by check-quorum;
 *   brokers fetch from the new leader.
 * - controller-from-quorum: the active controller is cut off from the metadata quorum only. ZK
 *   mode: from the ZooKeeper ensemble (brokers still reach it): its session expires, a new
 *   controller is elected while the old one keeps sending to brokers until it reconnects. KRaft
 *   mode, whose quorum is the controllers themselves: from the other controllers (brokers still
 *   reach it): they elect a new leader; the old one resigns by check-quorum.
 * - broker-from-controller: a broker that is not the active controller is cut off from the active
 *   controller only. ZK mode: it keeps its ZooKeeper session, so the controller does not see it
 *   fail; the controller's send thread to it times out and retries, and the broker keeps serving.
 *   KRaft mode: its heartbeats and metadata fetches (the active controller is the Raft leader) get
 *   no answer, so it is fenced after broker.session.timeout.ms and its leaderships move.
 */
export default defineScenario({
  name: 'network-partition',
  description: 'a network partition around the active controller or a broker, healed after a while',
  modes: ['zk', 'kraft'],
  until: '30m',
  params: {
    ...KAFKA_PARAMS,
    variant: { default: 'controller-isolated', unit: '', description: 'who is cut off from whom (see the scenario\'s doc comment)', choices: Object.keys(VARIANTS) },
    'fault.at.ms': { default: 10_000, unit: 'ms', description: 'when the partition starts', source: 'scenario setting: after the warm-started cluster has run a while', min: 0 },
    'partition.ms': {
      default: 30_000,
      unit: 'ms',
      description: 'how long the partition lasts before it heals',
      source: 'scenario setting: longer than zookeeper.session.timeout.ms (18 s) and broker.session.timeout.ms (9 s), so both modes act before the heal',
      min: 0,
    },
  },
  build(ctx) {
    const handle = buildKafkaCluster(ctx);
    const at = num(ctx.params, 'fault.at.ms');
    return {
      plan: {
        steps: [
          { atMs: at, action: { type: 'partition', shape: VARIANTS[str(ctx.params, 'variant')]!, bind: 'cut' }, main: true },
          { atMs: at + num(ctx.params, 'partition.ms'), action: { type: 'heal' } },
        ],
      },
      metrics: () => handle.tracker.metrics(),
      extra: () => ({ ...handle.tracker.extra(), ...handle.extra() }),
    };
  },
});
