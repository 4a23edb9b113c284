import { select, type FaultTrigger, type NodeSelector, type SimNode } from '../core/index.ts';
import { buildKafkaCluster, KAFKA_PARAMS } from '../sim/kafka.ts';
import { num } from '../sim/params.ts';
import { defineScenario } from '../sim/scenario.ts';

/**
 * Every broker restarted in turn, as an operator rolls a config change: stop the broker with a
 * controlled shutdown (kafka-server-stop.sh), start it again after restart.ms, and start on the next
 * broker only once the previous one is back in the ISR of every partition it replicates
 * (UnderReplicatedPartitions back to 0). Brokers go in id order; in ZooKeeper mode the broker that
 * is the active controller goes last, so the controller moves once.
 * ZooKeeper mode: ControlledShutdown to the controller, which moves the broker's leaders and shrinks
 * it out of the ISRs through ZooKeeper and tells the brokers; after the restart the broker registers,
 * the controller sends it LeaderAndIsr for its replicas (onBrokerStartup) and the leaders add it back
 * to the ISRs with AlterPartition once its fetchers have caught up. The controller's own broker stops
 * last: its resignation makes the others race for /controller and the winner loads the cluster
 * from ZooKeeper.
 * KRaft mode: the broker heartbeats WantShutDown; the active controller writes its leader moves and
 * ISR removals to the metadata log and answers ShouldShutDown once every broker has applied them.
 * After the restart it registers, replays the log and is unfenced once caught up to its
 * registration; then the leaders add it back to the ISRs (AlterPartition → PartitionChangeRecords).
 * Measured: recovery from the first stop request until the cluster is last healthy; extra:
 * rollingRestartMs (first stop request → last broker back in every ISR), each broker's stop time
 * (stop request → process exit) as stopMsMax / stopMsTotal, and metrics.shutdownMs = stopMsMax.
 */
export default defineScenario({
  name: 'rolling-restart',
  description: 'every broker restarted in turn: controlled shutdown, restart, wait until back in the ISRs',
  modes: ['zk', 'kraft'],
  until: '2h',
  params: {
    ...KAFKA_PARAMS,
    'start.at.ms': { default: 10_000, unit: 'ms', description: 'when the first broker is asked to stop', source: 'scenario setting: after the warm-started cluster has run a while', min: 0 },
    'restart.ms': { default: 5_000, unit: 'ms', description: 'from a broker\'s process exit to its start', source: 'estimate: JVM start and log loading after a clean shutdown (no log recovery: the clean-shutdown marker) ≈ 5 s', min: 0 },
  },
  build(ctx) {
    const handle = buildKafkaCluster(ctx);
    const { sim } = ctx;
    const B = num(ctx.params, 'brokers');
    const restartMs = num(ctx.params, 'restart.ms');
    const done = (k: number): string[] => Array.from({ length: k }, (_, i) => `$r${i}`);
    const next = (k: number): NodeSelector => select('@brokers', { except: done(k), avoid: '@activeController', pick: 'lowest' });
    const triggers: FaultTrigger[] = [];
    for (let k = 0; k < B; k++) {
      triggers.push({ when: { kind: 'crash', node: `$r${k}` }, afterMs: restartMs, action: { type: 'restart', node: `$r${k}` }, required: true });
      triggers.push({
        when: { kind: 'state', label: 'rolling.caught-up', value: k },
        // After the last broker: a step with no effect, so that the run lasts until then.
        action: k + 1 < B ? { type: 'op', op: 'controlled-shutdown', node: next(k + 1), bind: `r${k + 1}` } : { type: 'clear-link-faults' },
        required: true,
      });
    }

    // Broker k of the roll, once restarted, is caught up when truth has it in the ISR of every
    // partition it replicates. Checked (as its own event) when a leader hears back on an ISR change.
    const truth = handle.tracker.truth;
    const rf = truth.rf;
    let waiting: { k: number; parts: Int32Array; slots: Uint8Array; cursor: number } | null = null;
    let checkQueued = false;
    const stopAt: number[] = [];
    const stopMs: number[] = [];
    let caughtUpAtUs = -1;
    const check = (): void => {
      checkQueued = false;
      const w = waiting;
      if (w === null) return;
      while (w.cursor < w.parts.length && (truth.isr[w.parts[w.cursor]!]! & (1 << w.slots[w.cursor]!)) !== 0) w.cursor++;
      if (w.cursor < w.parts.length) return;
      // One pass over all of them before declaring it: an ISR may have shrunk behind the cursor.
      for (let i = 0; i < w.parts.length; i++) if ((truth.isr[w.parts[i]!]! & (1 << w.slots[i]!)) === 0) return void (w.cursor = i);
      waiting = null;
      caughtUpAtUs = sim.nowUs;
      sim.trace.record(sim.nowUs, 'state', -1, -1, 'rolling.caught-up', w.k);
    };
    const queueCheck = (): void => {
      if (waiting === null || checkQueued) return;
      checkQueued = true;
      sim.at(sim.nowUs, check);
    };
    const rolled = (k: number): SimNode | null => (k >= 0 && k < stopAt.length ? sim.faults.resolve(`$r${k}`) : null);
    ctx.watch({ kind: 'fault', label: 'op' }, () => stopAt.push(sim.nowUs));
    ctx.watch({ kind: 'crash' }, (r) => {
      const k = stopAt.length - 1;
      if (r.node !== null && r.node === rolled(k) && stopMs.length === k) stopMs.push((sim.nowUs - stopAt[k]!) / 1000);
    });
    ctx.watch({ kind: 'start' }, (r) => {
      const k = stopAt.length - 1;
      if (r.node === null || r.node !== rolled(k)) return;
      const b = handle.tracker.layout.brokers === B ? Number(r.node.name.slice('broker-'.length)) : -1;
      const parts: number[] = [];
      const slots: number[] = [];
      for (let p = 0; p < truth.size; p++) {
        for (let i = 0; i < rf; i++) {
          if (truth.replicas[p * rf + i] === b) {
            parts.push(p);
            slots.push(i);
          }
        }
      }
      waiting = { k, parts: Int32Array.from(parts), slots: Uint8Array.from(slots), cursor: 0 };
    });
    ctx.watch({ kind: 'deliver', label: 'AlterPartitionResponse' }, queueCheck);
    ctx.watch({ kind: 'state', label: 'controller.isr.change.notification' }, queueCheck);

    const stopMax = (): number | null => (stopMs.length === 0 ? null : Math.max(...stopMs));
    return {
      plan: {
        steps: [{ atMs: num(ctx.params, 'start.at.ms'), action: { type: 'op', op: 'controlled-shutdown', node: next(0), bind: 'r0' }, main: true }],
        triggers,
      },
      metrics: () => ({ ...handle.tracker.metrics(), shutdownMs: stopMax() }),
      extra: () => ({
        ...handle.tracker.extra(),
        ...handle.extra(),
        brokersRestarted: stopMs.length,
        rollingRestartMs: caughtUpAtUs >= 0 && stopMs.length === B && stopAt.length > 0 && waiting === null ? (caughtUpAtUs - stopAt[0]!) / 1000 : null,
        stopMsMax: stopMax(),
        stopMsTotal: stopMs.length === 0 ? null : stopMs.reduce((a, b) => a + b, 0),
      }),
    };
  },
});
