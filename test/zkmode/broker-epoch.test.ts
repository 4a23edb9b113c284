import { describe, expect, it } from 'vitest';
import { CLUSTER_PARAMS } from '../../sim/cluster/params.ts';
import type { ParamValue } from '../../sim/params.ts';
import { runOnce } from '../../sim/run.ts';
import { defineScenario } from '../../sim/scenario.ts';
import { buildZkCluster, ZK_BUGS, ZK_PARAMS } from '../../sim/zkmode/cluster.ts';

/**
 * KIP-380's race: the active controller dies; the new one reads /brokers/ids (broker B at its old
 * czxid) and starts loading every partition state. Meanwhile B, which crashed and restarted a moment
 * after the controller, loses its old session, re-registers (a new czxid: a new broker epoch), and
 * the BrokerChange that would tell the new controller waits behind the load on the controller's
 * single event thread. After the load the controller sends LeaderAndIsr/UpdateMetadata to every
 * broker it read, B with its OLD epoch.
 */
const bounce = defineScenario({
  name: 'zk-bounce-during-failover-test',
  description: 'test: a broker bounces while a new controller loads',
  modes: ['zk'],
  until: '30m',
  params: {
    ...CLUSTER_PARAMS,
    ...ZK_PARAMS,
    'bounce.broker': { default: 3, unit: 'id', description: 'broker that bounces', min: 1, integer: true },
    'bounce.after.ms': { default: 1000, unit: 'ms', description: 'bounce this long after the controller crash', min: 0 },
    bugs: { default: '', unit: '', description: 'bugs', choices: [...ZK_BUGS], list: true },
  },
  build(ctx) {
    const h = buildZkCluster(ctx);
    const b = `broker-${ctx.params['bounce.broker'] as number}`;
    const at = 10_000 + (ctx.params['bounce.after.ms'] as number);
    return {
      plan: {
        steps: [
          { atMs: 10_000, action: { type: 'crash', node: '@activeController' }, main: true },
          { atMs: at, action: { type: 'crash', node: b } },
          { atMs: at + 1000, action: { type: 'restart', node: b } },
        ],
      },
      metrics: () => h.tracker.metrics(),
      extra: () => ({ ...h.tracker.extra(), ...h.extra() }),
    };
  },
});

const runBounce = (overrides: Record<string, ParamValue>, seed: number) =>
  runOnce({ file: 'test', scenario: bounce, seed, mode: 'zk', overrides: { partitions: 60000, brokers: 6, ...overrides }, untilUs: 300_000_000 });

const rejected = (r: ReturnType<typeof runBounce>) => r.extra['zk.broker.rejected.stale.broker.epoch'] as number;

describe('KAFKA-7235: control requests aimed at a bounced broker\'s old epoch', () => {
  it('rejected with STALE_BROKER_EPOCH; with bugs=KAFKA-7235 accepted (broker.no-stale-broker-epoch trips)', () => {
    for (const seed of [1, 2]) {
      const ok = runBounce({ 'bounce.after.ms': 4000 }, seed);
      expect(ok.violation).toBeNull();
      expect(rejected(ok)).toBeGreaterThan(0);
      expect(ok.extra['healthyAtEnd']).toBe('yes');
      const bug = runBounce({ 'bounce.after.ms': 4000, bugs: 'KAFKA-7235' }, seed);
      expect(bug.violation?.invariant).toBe('broker.no-stale-broker-epoch');
      expect(rejected(bug)).toBe(0);
    }
  });
});
