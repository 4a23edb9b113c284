import { CLUSTER_PARAMS } from '../sim/cluster/params.ts';
import { num, str } from '../sim/params.ts';
import { defineScenario } from '../sim/scenario.ts';
import { buildZkCluster, ZK_BUGS, ZK_PARAMS } from '../sim/zkmode/cluster.ts';

/**
 * The zombie controller (ZooKeeper mode). A broker dies; its session expires and the active
 * controller runs onBrokerFailure: reads, conditional writes through 10 in-flight requests, then
 * sendRequestsToBrokers queues LeaderAndIsr + UpdateMetadata per broker on the
 * ControllerChannelManager, whose send threads carry one request at a time per broker. The GC pause
 * hits just as the send threads start (pause.on = first-leader-and-isr): each has a LeaderAndIsr on
 * the wire and an UpdateMetadata queued behind it. The pause outlasts the session timeout:
 * ZooKeeper expires the session, /controller goes, another broker wins the election (epoch 2),
 * reloads every partition state and then tells the live brokers. When the old controller resumes,
 * its send threads do not consult ZooKeeper: they take their answers and send what is queued until
 * the controller resigns — after its ZooKeeper client has reconnected (ClientCnxn sleeps up to a
 * second first) and heard that the session expired. Its ZooKeeper writes are fenced by the
 * controller-epoch CheckOp (not with bugs=KAFKA-6082); its late requests are rejected by brokers
 * that have seen epoch 2 (STALE_CONTROLLER_EPOCH) and applied by those that have not.
 * Measured: split-brain time, requests/states accepted from the old epoch, divergence (stale: what
 * the zombie sends it had committed before it was fenced, so phantom states do not arise here).
 * pause.on = delay pauses pause.after.ms after the failure handling starts instead (the writes are
 * then still in flight and fenced, and the controller resigns before it sends anything).
 */
export default defineScenario({
  name: 'zombie-controller',
  description: 'ZK mode: the active controller GC-pauses past its session timeout mid-work, then resumes as a zombie',
  modes: ['zk'],
  until: '30m',
  params: {
    ...CLUSTER_PARAMS,
    partitions: { ...CLUSTER_PARAMS['partitions']!, default: 20_000 },
    ...ZK_PARAMS,
    'fault.at.ms': { default: 5_000, unit: 'ms', description: 'when a broker (broker.to.kill) crashes, giving the controller work', min: 0 },
    'broker.to.kill': { default: 5, unit: 'id', description: 'the broker that crashes first', min: 0, integer: true },
    'pause.on': {
      default: 'first-leader-and-isr',
      unit: '',
      description: 'what starts the GC pause: the controller sending its first LeaderAndIsr after the broker failure, or a delay after it starts handling the failure',
      choices: ['first-leader-and-isr', 'delay'],
    },
    'pause.after.ms': { default: 0, unit: 'ms', description: 'the pause starts this long after the pause.on event', min: 0 },
    'pause.ms': { default: 25_000, unit: 'ms', description: 'length of the GC pause (longer than zookeeper.session.timeout.ms)', min: 0 },
    bugs: { default: '', unit: '', description: 'historical Kafka bugs and what-ifs to switch on (comma-separated)', choices: [...ZK_BUGS], list: true },
  },
  build(ctx) {
    const handle = buildZkCluster(ctx);
    const p = ctx.params;
    const from = num(p, 'fault.at.ms');
    const when =
      str(p, 'pause.on') === 'delay'
        ? ({ kind: 'state', label: 'controller.broker.failure', fromMs: from } as const)
        : ({ kind: 'send', label: 'LeaderAndIsr', node: '@activeController', fromMs: from } as const);
    return {
      plan: {
        steps: [{ atMs: num(p, 'fault.at.ms'), action: { type: 'crash', node: `broker-${num(p, 'broker.to.kill')}` } }],
        triggers: [
          { when, afterMs: num(p, 'pause.after.ms'), action: { type: 'pause', node: '@activeController', bind: 'zombie' }, main: true },
          { when, afterMs: num(p, 'pause.after.ms') + num(p, 'pause.ms'), action: { type: 'resume', node: '$zombie' } },
        ],
      },
      metrics: () => handle.tracker.metrics(),
      extra: () => ({ ...handle.tracker.extra(), ...handle.extra() }),
    };
  },
});
