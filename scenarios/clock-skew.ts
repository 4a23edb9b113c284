import { select } from '../core/index.ts';
import { buildKafkaCluster, KAFKA_PARAMS } from '../sim/kafka.ts';
import { num } from '../sim/params.ts';
import { defineScenario } from '../sim/scenario.ts';

/**
 * Skewed clocks, then a failure. From clock.at.ms the active controller's clock runs fast and every
 * other broker's and controller's clock slow, by clock.drift each way; then the controllers' wall
 * clocks jump forward and the brokers' jump back by clock.jump.ms (an NTP step; in ZK mode every
 * broker is a controller candidate, so brokers take both); at fault.at.ms the active controller is
 * killed (kill -9), with the skew still on.
 * Both modes time their timeouts on the monotonic clock (Kafka's Time.hiResClockMs, System.nanoTime;
 * ZooKeeper's Time.currentElapsedTime since ZOOKEEPER-1366), so the wall-clock jumps change nothing;
 * the drift stretches or shrinks each node's own timeouts. ZooKeeper mode: the brokers' ZooKeeper
 * clients and the ensemble's session expiry (tickTime buckets on the leader) decide when the dead
 * controller's session ends and the others race for /controller; the new controller loads from
 * ZooKeeper. KRaft mode: the surviving voters' fetch timeouts and randomised election timeouts, on
 * their slow clocks, decide when they elect; the new leader's controller is a hot standby.
 */
export default defineScenario({
  name: 'clock-skew',
  description: 'clock drift and wall-clock jumps on controllers and brokers, then the active controller crashes',
  modes: ['zk', 'kraft'],
  until: '30m',
  params: {
    ...KAFKA_PARAMS,
    'clock.at.ms': { default: 2_000, unit: 'ms', description: 'when the drift starts (the jumps follow 1 s later)', source: 'scenario setting: before the failure', min: 0 },
    'clock.drift': {
      default: 0.02,
      unit: 'ratio',
      description: 'the active controller\'s clock runs at 1 + drift, every other node\'s in its role at 1 − drift',
      source: 'estimate: a badly virtualised clock source (2 %); NTP keeps healthy drift under 500 ppm (ntpd\'s maximum slew), which moves no timeout here',
      min: 0,
    },
    'clock.jump.ms': { default: 60_000, unit: 'ms', description: 'wall-clock step: controllers forward, brokers back', source: 'estimate: an NTP step after a long unsynchronised spell (ntpd steps above 128 ms)', min: 0 },
    'fault.at.ms': { default: 10_000, unit: 'ms', description: 'when the active controller is killed', source: 'scenario setting: after the skew is in place', min: 0 },
  },
  build(ctx) {
    const handle = buildKafkaCluster(ctx);
    const p = ctx.params;
    const at = num(p, 'clock.at.ms');
    const d = num(p, 'clock.drift');
    const jump = num(p, 'clock.jump.ms');
    return {
      plan: {
        steps: [
          { atMs: at, action: { type: 'clock-rate', node: '@activeController', rate: 1 + d, bind: 'fast' } },
          { atMs: at, action: { type: 'clock-rate', node: select(['@controllers', '@brokers'], { except: '$fast' }), rate: 1 - d } },
          { atMs: at + 1000, action: { type: 'clock-jump', node: '@controllers', deltaMs: jump } },
          { atMs: at + 1000, action: { type: 'clock-jump', node: '@brokers', deltaMs: -jump } },
          { atMs: num(p, 'fault.at.ms'), action: { type: 'crash', node: '@activeController', bind: 'old' }, main: true },
        ],
      },
      metrics: () => handle.tracker.metrics(),
      extra: () => ({ ...handle.tracker.extra(), ...handle.extra() }),
    };
  },
});
