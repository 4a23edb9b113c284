import { describe, expect, it } from 'vitest';
import type { ParamValue } from '../../sim/params.ts';
import { runOnce } from '../../sim/run.ts';
import { defineScenario } from '../../sim/scenario.ts';
import type { ZkBroker } from '../../sim/zkmode/broker.ts';
import { buildZkCluster } from '../../sim/zkmode/cluster.ts';
import { ZK_TEST_PARAMS } from './run.ts';

/**
 * The active controller crashes; a broker connected to a ZooKeeper follower wins the election and
 * loads every partition state. For `clog.ms` from the start of that load, the ZooKeeper leader's
 * messages to that follower are held (shorter than syncLimit, so it keeps its leader): plain reads
 * are served from its lagging tree, sync() must wait for the leader. (With replica.lag.time.max.ms
 * 16 s the ISR shrinks after broker-0's crash land after the load: nothing is written meanwhile, so
 * nothing read is stale; `writersAhead` below has writers.)
 */
const lagging = defineScenario({
  name: 'zk-lagging-follower-test',
  description: 'test: the new controller loads from a lagging ZooKeeper follower',
  modes: ['zk'],
  until: '30m',
  params: {
    ...ZK_TEST_PARAMS,
    'clog.ms': { default: 4000, unit: 'ms', description: 'how long the leader → controller server link is held', min: 0 },
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

/**
 * Stale reads need a writer in another session committing partition states ahead of the new
 * controller's read cursor while its ZooKeeper server lags (a session's reads wait behind its own
 * writes, so the controller's own broker must not be writing). Broker 3's fetches to the other
 * brokers are cut from 1 s: the leaders shrink it out of their ISRs (replica.lag.time.max.ms
 * 10 s, writing ZooKeeper directly with isr.change.notification.enable). The controller crashes at
 * 10 s; at `heal.at.ms`, just before its session expires, broker 3 fetches again and the leaders
 * start writing it back into their ISRs, partition by partition. Broker 3, with nothing to write,
 * reaches ZooKeeper first and wins (the others' elect() queues behind their ISR writes); from the
 * start of its load the ZooKeeper leader's link to its server is held for `clog.ms`.
 */
const writersAhead = defineScenario({
  name: 'zk-stale-load-test',
  description: 'test: the new controller loads from a lagging ZooKeeper follower while leaders of other sessions write ISRs',
  modes: ['zk'],
  until: '30m',
  params: {
    ...ZK_TEST_PARAMS,
    'clog.ms': { default: 6000, unit: 'ms', description: 'how long the leader → controller server link is held', min: 0 },
    'heal.at.ms': { default: 25_500, unit: 'ms', description: 'when broker 3 fetches again', min: 0 },
  },
  build(ctx) {
    const h = buildZkCluster(ctx);
    const when = { kind: 'state', label: 'controller.load.start' } as const;
    const clogMs = ctx.params['clog.ms'] as number;
    const others: string[] = [];
    for (let b = 0; b < (ctx.params['brokers'] as number) - 1; b++) others.push(`broker-${b}`);
    return {
      plan: {
        steps: [
          { atMs: 1_000, action: { type: 'partition', shape: { type: 'one-way', from: ['broker-3'], to: others } } },
          { atMs: 10_000, action: { type: 'crash', node: '@activeController' }, main: true },
          { atMs: ctx.params['heal.at.ms'] as number, action: { type: 'heal' } },
        ],
        triggers: [
          { when, afterMs: 0, action: { type: 'clog', from: '@zkLeader', to: '@controllerZkServer' } },
          { when, afterMs: clogMs, action: { type: 'unclog', from: '@zkLeader', to: '@controllerZkServer' } },
        ],
      },
      metrics: () => h.tracker.metrics(),
      extra: () => ({ ...h.tracker.extra(), ...h.extra() }),
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
      expect(plain.extra['zk.controller.tree.walk.ms'] as number).toBeLessThan(4000);
      // sync() goes through the leader's (held) link: the load cannot finish before the link is released.
      expect(synced.extra['zk.controller.tree.walk.ms'] as number).toBeGreaterThan(4000);
    }
  });

  it('with leaders of other sessions writing ahead of its read cursor, plain reads load states already superseded; sync() reads none', () => {
    for (const seed of [1, 2]) {
      const o = { partitions: 20000, brokers: 4, 'zk.servers': 5, 'isr.change.notification.enable': true, 'replica.lag.time.max.ms': 10_000 };
      const plain = runOnce({ file: 'test', scenario: writersAhead, seed, mode: 'zk', overrides: o, untilUs: 400_000_000 });
      const synced = runOnce({ file: 'test', scenario: writersAhead, seed, mode: 'zk', overrides: { ...o, 'zk.linearizable.reads': true }, untilUs: 400_000_000 });
      for (const r of [plain, synced]) {
        expect(r.violation).toBeNull();
        expect(r.extra['healthyAtEnd']).toBe('yes');
        // The broker that had nothing to write won, on a follower (brokers 0-3 sit on zk-0..3; zk-4 leads).
        expect(r.extra['zk.controller.broker']).toBe(3);
        expect(r.extra['zk.leader']).toBe('zk-4');
      }
      const stale = plain.extra['zk.controller.stale.reads'] as number;
      expect(stale).toBeGreaterThan(0);
      // Every stale read missed a leader's ISR write (the only writers of partition state here but the controller).
      expect(stale).toBeLessThanOrEqual(plain.extra['zk.isr.changes.proposed'] as number);
      expect(synced.extra['zk.controller.stale.reads']).toBe(0);
      expect(synced.extra['zk.controller.context.load.ms'] as number).toBeGreaterThan(6000);
    }
  });
});
