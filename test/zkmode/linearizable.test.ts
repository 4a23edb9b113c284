import { describe, expect, it } from 'vitest';
import { CLUSTER_PARAMS } from '../../sim/cluster/params.ts';
import type { ParamValue } from '../../sim/params.ts';
import { runOnce } from '../../sim/run.ts';
import { defineScenario } from '../../sim/scenario.ts';
import type { ZkBroker } from '../../sim/zkmode/broker.ts';
import { buildZkCluster, ZK_BUGS, ZK_PARAMS } from '../../sim/zkmode/cluster.ts';

/**
 * The active controller crashes; a broker connected to a ZooKeeper follower wins the election and
 * loads every partition state. For `clog.ms` from the start of that load, the ZooKeeper leader's
 * messages to that follower are held (shorter than syncLimit, so it keeps its leader): plain reads
 * are served from its lagging tree, sync() must wait for the leader. (With replica.lag.time.max.ms
 * 16 s the ISR shrinks after broker-0's crash land after the load; the stale-read counter needs a
 * writer of another session inside the clog window, see the report.)
 */
const lagging = defineScenario({
  name: 'zk-lagging-follower-test',
  description: 'test: the new controller loads from a lagging ZooKeeper follower',
  modes: ['zk'],
  until: '30m',
  params: {
    ...CLUSTER_PARAMS,
    ...ZK_PARAMS,
    'clog.ms': { default: 4000, unit: 'ms', description: 'how long the leader → controller server link is held', min: 0 },
    bugs: { default: '', unit: '', description: 'bugs', choices: [...ZK_BUGS], list: true },
  },
  build(ctx) {
    const h = buildZkCluster(ctx);
    const sim = ctx.sim;
    const when = { kind: 'state', label: 'controller.load.start' } as const;
    const clogMs = ctx.params['clog.ms'] as number;
    return {
      plan: {
        steps: [{ atMs: 10_000, action: { type: 'crash', node: '@activeController' }, main: true }],
        triggers: [
          { when, afterMs: 0, action: { type: 'clog', from: '@zkLeader', to: '@controllerZkServer' } },
          { when, afterMs: clogMs, action: { type: 'unclog', from: '@zkLeader', to: '@controllerZkServer' } },
        ],
      },
      metrics: () => h.tracker.metrics(),
      extra: () => {
        const brokers = ctx.params['brokers'] as number;
        let server = -1;
        for (let b = 0; b < brokers; b++) {
          const n = sim.node(`broker-${b}`);
          if (n.up && (n.behavior as ZkBroker).controller.active) server = (n.behavior as ZkBroker).zk.serverIndex;
        }
        return { ...h.tracker.extra(), ...h.extra(), controllerZkServer: server >= 0 ? `zk-${server}` : null };
      },
    };
  },
});

const go = (overrides: Record<string, ParamValue>, seed: number) =>
  runOnce({ file: 'test', scenario: lagging, seed, mode: 'zk', overrides: { partitions: 20000, brokers: 4, 'zk.servers': 5, 'isr.change.notification.enable': true, 'replica.lag.time.max.ms': 16000, ...overrides }, untilUs: 400_000_000 });

describe('what-if zk.linearizable.reads (sync before every controller read)', () => {
  it('the new controller on a lagging follower: without sync the load runs on the lagging tree, with sync every read waits for the leader', () => {
    for (const seed of [1, 2]) {
      const plain = go({}, seed);
      const synced = go({ 'zk.linearizable.reads': true }, seed);
      for (const r of [plain, synced]) {
        expect(r.violation).toBeNull();
        expect(r.extra['healthyAtEnd']).toBe('yes');
        // The controller won through a follower (brokers 0-3 sit on zk-0..3; zk-4 leads).
        expect(r.extra['controllerZkServer']).not.toBe(r.extra['zk.leader']);
      }
      // Plain reads are served locally, whatever the follower has applied: the load ends inside the clog.
      expect(plain.metrics.phases.loadMs!).toBeLessThan(4000);
      // sync() goes through the leader's (held) link: the load cannot finish before the link is released.
      expect(synced.metrics.phases.loadMs!).toBeGreaterThan(4000);
    }
  });
});
