import { CLUSTER_PARAMS } from '../sim/cluster/params.ts';
import { num } from '../sim/params.ts';
import { defineScenario } from '../sim/scenario.ts';
import { buildZkCluster, ZK_BUGS, ZK_PARAMS } from '../sim/zkmode/cluster.ts';

/**
 * The zombie controller (ZooKeeper mode). A broker dies; its session expires and the active
 * controller starts onBrokerFailure: reads, conditional writes through 10 in-flight requests, then
 * LeaderAndIsr/UpdateMetadata to every broker one request at a time. In the middle of that work
 * the controller stops for a GC pause longer than the session timeout. ZooKeeper expires its
 * session, /controller goes, another broker wins the election and reloads the cluster. When the
 * old controller resumes it still believes it is controller until its ZooKeeper client reconnects
 * and learns of the expiry: meanwhile its queued work runs on. Its ZooKeeper writes are fenced by
 * the controller-epoch CheckOp (not with bugs=KAFKA-6082); its requests still reach brokers that
 * have not yet heard from the new controller. Measured: split-brain time, stale/phantom states.
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
    'pause.after.ms': { default: 300, unit: 'ms', description: 'the pause starts this long after the controller starts handling the broker failure', min: 0 },
    'pause.ms': { default: 25_000, unit: 'ms', description: 'length of the GC pause (longer than zookeeper.session.timeout.ms)', min: 0 },
    bugs: { default: '', unit: '', description: 'historical Kafka bugs and what-ifs to switch on (comma-separated)', choices: [...ZK_BUGS], list: true },
  },
  build(ctx) {
    const handle = buildZkCluster(ctx);
    const p = ctx.params;
    const when = { kind: 'state', label: 'controller.broker.failure' } as const;
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
