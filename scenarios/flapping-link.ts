import { allBut } from '../core/index.ts';
import { buildKafkaCluster, KAFKA_PARAMS } from '../sim/kafka.ts';
import { num } from '../sim/params.ts';
import { defineScenario, type ScenarioBuildContext } from '../sim/scenario.ts';
import type { FaultStep } from '../core/index.ts';

/**
 * The network link of the active controller's machine flaps: it is cut off from every other node
 * for down.ms, back for up.ms, flap.cycles times, then stays up. The machine stays the same (`$ctl`)
 * whether or not it is still the controller.
 * ZooKeeper mode: a cut shorter than the ZooKeeper client's read timeout (2/3 of
 * zookeeper.session.timeout.ms) loses nothing but time: the session survives, the controller stays,
 * its requests to brokers wait in TCP and arrive after each cut (controller.socket.timeout.ms if
 * longer); the brokers it leads cannot be fetched from while it is cut, so followers drop out of
 * ISRs (replica.lag.time.max.ms). KRaft mode: a cut longer than controller.quorum.fetch.timeout.ms
 * makes the other voters elect a new leader, and the cut-off one resigns by check-quorum; every
 * cycle can move the controller and the brokers follow each move through the metadata log.
 */
export default defineScenario({
  name: 'flapping-link',
  description: 'the active controller\'s link flaps (cut/heal cycles), then heals',
  modes: ['zk', 'kraft'],
  until: '30m',
  params: {
    ...KAFKA_PARAMS,
    'fault.at.ms': { default: 10_000, unit: 'ms', description: 'when the first cut starts', source: 'scenario setting: after the warm-started cluster has run a while', min: 0 },
    'flap.down.ms': { default: 3_000, unit: 'ms', description: 'each cut lasts this long', source: 'estimate: a flapping switch port or NIC; longer than controller.quorum.fetch.timeout.ms (2 s), shorter than the ZooKeeper read timeout (12 s)', min: 1 },
    'flap.up.ms': { default: 3_000, unit: 'ms', description: 'the link is up this long between cuts', source: 'estimate: as flap.down.ms', min: 1 },
    'flap.cycles': { default: 10, unit: 'count', description: 'cut/heal cycles', source: 'scenario setting: a minute of flapping', min: 1, integer: true },
  },
  build(ctx: ScenarioBuildContext) {
    const handle = buildKafkaCluster(ctx);
    const p = ctx.params;
    const at = num(p, 'fault.at.ms');
    const down = num(p, 'flap.down.ms');
    const period = down + num(p, 'flap.up.ms');
    const steps: FaultStep[] = [{ atMs: at, action: { type: 'partition', shape: { type: 'isolate', node: '@activeController' }, bind: 'ctl' }, main: true }];
    for (let i = 0; i < num(p, 'flap.cycles'); i++) {
      if (i > 0) steps.push({ atMs: at + i * period, action: { type: 'partition', shape: { type: 'symmetric', a: ['$ctl'], b: [allBut('$ctl')] } } });
      steps.push({ atMs: at + i * period + down, action: { type: 'heal' } });
    }
    return {
      plan: { steps },
      metrics: () => handle.tracker.metrics(),
      extra: () => ({ ...handle.tracker.extra(), ...handle.extra() }),
    };
  },
});
