import { KAFKA_PARAMS } from '../sim/kafka.ts';
import { buildKraftCluster } from '../sim/kraft/cluster.ts';
import { num } from '../sim/params.ts';
import { UsageError } from '../sim/errors.ts';
import { defineScenario, type ScenarioContext } from '../sim/scenario.ts';
import { buildZkCluster } from '../sim/zkmode/cluster.ts';

/** What a mode's builder offers this scenario: its handle, and a way to start a controlled shutdown. */
interface ShutdownCapable {
  readonly handle: { readonly tracker: ReturnType<typeof buildZkCluster>['tracker']; extra(): Record<string, number | string | null> };
  controlledShutdown(b: number, onDone: (ms: number, clean: boolean) => void): void;
}

/** One branch per mode. */
function build(ctx: ScenarioContext): ShutdownCapable {
  switch (ctx.mode) {
    case 'zk': {
      const h = buildZkCluster(ctx);
      // Its clean exit closes its ZooKeeper session first (KafkaServer.shutdown → zkClient.close).
      return { handle: h, controlledShutdown: (b, onDone) => h.controlledShutdown(b, (ms, ok) => {
        h.closeSession(b);
        onDone(ms, ok);
      }) };
    }
    case 'kraft': {
      // The broker heartbeats with WantShutDown; the broker exits by itself once told ShouldShutDown.
      const h = buildKraftCluster(ctx);
      return { handle: h, controlledShutdown: (b, onDone) => h.controlledShutdown(b, onDone) };
    }
    default:
      throw new Error(`controlled-shutdown: mode ${ctx.mode} not modelled`);
  }
}

/**
 * A broker is stopped cleanly (a rolling restart step). ZooKeeper mode: it sends
 * ControlledShutdown(brokerId, brokerEpoch) to the controller, which moves every leader it holds to
 * another ISR replica and shrinks it out of the ISRs it is in — a fenced conditional ZooKeeper write
 * per partition, 10 in flight — then sends LeaderAndIsr/UpdateMetadata and answers with the
 * partitions it still leads; the broker retries after controlled.shutdown.retry.backoff.ms, up to
 * controlled.shutdown.max.retries attempts, then exits. Measured: shutdownMs (request → may exit).
 * KRaft mode (KIP-631): its heartbeats carry WantShutDown; the active controller puts it in
 * CONTROLLED_SHUTDOWN and writes the leader moves and ISR removals as PartitionChangeRecords
 * through the metadata log, and answers ShouldShutDown once it leads nothing and every active
 * broker has reported applying those records; then the broker is fenced and exits. Measured:
 * shutdownMs (first WantShutDown heartbeat → ShouldShutDown received).
 * Not a fault: nothing is marked main; the broker process exits when the shutdown completes.
 */
export default defineScenario({
  name: 'controlled-shutdown',
  description: 'controlled shutdown of one broker: time until it may exit, leaders moved first',
  modes: ['zk', 'kraft'],
  until: '30m',
  params: {
    ...KAFKA_PARAMS,
    'shutdown.at.ms': { default: 10_000, unit: 'ms', description: 'when the broker starts its controlled shutdown', min: 0 },
    'shutdown.broker': { default: 1, unit: 'id', description: 'the broker that shuts down', min: 0, integer: true },
  },
  build(ctx) {
    const c = build(ctx);
    const b = num(ctx.params, 'shutdown.broker');
    if (b >= num(ctx.params, 'brokers')) throw new UsageError(`shutdown.broker ${b} is not a broker`);
    let shutdownMs: number | null = null;
    let clean: string | null = null;
    ctx.sim.at(num(ctx.params, 'shutdown.at.ms') * 1000, () => {
      c.controlledShutdown(b, (ms, ok) => {
        shutdownMs = ms;
        clean = ok ? 'yes' : 'no';
      });
    });
    const at = num(ctx.params, 'shutdown.at.ms');
    return {
      plan: {
        // A step with no effect on the network at the shutdown time keeps the run from settling before it.
        steps: [{ atMs: at, action: { type: 'clear-link-faults' } }],
        // The broker process exits once it may (in ZK mode after sending closeSession, so its
        // registration goes at once).
        triggers: [{ when: { kind: 'state', label: 'broker.controlled.shutdown.done' }, action: { type: 'crash', node: `broker-${b}` } }],
      },
      metrics: () => ({ ...c.handle.tracker.metrics(), shutdownMs }),
      extra: () => ({ ...c.handle.tracker.extra(), ...c.handle.extra(), shutdownMs, shutdownClean: clean }),
    };
  },
});
