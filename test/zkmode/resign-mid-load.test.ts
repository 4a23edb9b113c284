import { describe, expect, it } from 'vitest';
import type { TraceRecord } from '../../core/index.ts';
import { runOnce } from '../../sim/run.ts';
import { defineScenario } from '../../sim/scenario.ts';
import { buildZkCluster } from '../../sim/zkmode/cluster.ts';
import { ZK_TEST_PARAMS } from './run.ts';

/**
 * The active controller crashes; its successor is cut off from ZooKeeper the moment it becomes
 * active, so its reload stalls and its session expires; at heal it learns the expiry and resigns
 * with the reload unfinished. Kafka's onControllerFailover fails out of the event (its ZooKeeper
 * calls throw), so the event thread goes on: the broker must still handle later controller events
 * (the Reelect its /controller watch brings when another broker wins).
 */
const scenario = defineScenario({
  name: 'zk-resign-mid-load-test',
  description: 'test: a new controller loses its ZooKeeper session while loading',
  modes: ['zk'],
  until: '10m',
  params: ZK_TEST_PARAMS,
  build(ctx) {
    const h = buildZkCluster(ctx);
    const sim = ctx.sim;
    const resigned = new Map<number, number>();
    const eventsAfterResign = new Map<number, number>();
    const prev = sim.trace.sink;
    sim.trace.sink = (r: TraceRecord) => {
      prev?.(r);
      if (r.kind !== 'state') return;
      if (r.label === 'controller.resign' && r.node !== null) resigned.set(r.node, r.atUs);
      if (r.label === 'controller.event' && r.node !== null && resigned.has(r.node)) eventsAfterResign.set(r.node, (eventsAfterResign.get(r.node) ?? 0) + 1);
    };
    const zk = ['zk-0', 'zk-1', 'zk-2'];
    return {
      plan: {
        steps: [{ atMs: 10_000, action: { type: 'crash', node: '@activeController' }, main: true }],
        triggers: [
          { when: { kind: 'state', label: 'controller.active', fromMs: 10_001 }, action: { type: 'partition', shape: { type: 'symmetric', a: ['@activeController'], b: zk } } },
          { when: { kind: 'state', label: 'controller.active', fromMs: 10_001 }, afterMs: 25_000, action: { type: 'heal' } },
        ],
      },
      metrics: () => h.tracker.metrics(),
      extra: () => ({
        ...h.tracker.extra(),
        'test.resigned': resigned.size,
        'test.resigned.with.later.events': [...resigned.keys()].filter((n) => (eventsAfterResign.get(n) ?? 0) > 0).length,
      }),
    };
  },
});

describe('a ZK-mode controller that resigns while loading', () => {
  it('goes on handling controller events afterwards (its event queue is not left stuck)', () => {
    const r = runOnce({ file: 'test', scenario, seed: 42, mode: 'zk', overrides: { partitions: 20_000 }, untilUs: 10 * 60 * 1_000_000 });
    expect(r.violation).toBeNull();
    expect(r.extra['test.resigned']).toBeGreaterThanOrEqual(1);
    expect(r.extra['test.resigned.with.later.events']).toBe(r.extra['test.resigned']);
    expect(r.metrics.recoveryMs).not.toBeNull();
  });
});
