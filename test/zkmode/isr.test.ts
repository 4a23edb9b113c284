import { describe, expect, it } from 'vitest';
import type { ParamValue } from '../../sim/params.ts';
import { runOnce } from '../../sim/run.ts';
import { defineScenario } from '../../sim/scenario.ts';
import { buildZkCluster, ZK_PARAMS } from '../../sim/zkmode/cluster.ts';
import { ZK_TEST_PARAMS } from './run.ts';

const F = 5;

/**
 * Broker 5 cannot reach the other brokers except the controller (broker 0): the leaders on brokers
 * 1–11 stop getting its fetches and shrink it out of their ISRs after replica.lag.time.max.ms; at
 * heal.ms it fetches again and they add it back. The test samples the total divergence every 10 ms.
 */
const isrScenario = defineScenario({
  name: 'zk-isr-test',
  description: 'test: a follower stops fetching, ISRs shrink and expand',
  modes: ['zk'],
  until: '30m',
  params: {
    ...ZK_TEST_PARAMS,
    'heal.ms': { default: 80_000, unit: 'ms', description: 'heal time', min: 0 },
  },
  build(ctx) {
    const h = buildZkCluster(ctx);
    const brokers = ctx.params['brokers'] as number;
    const others: string[] = [];
    for (let b = 1; b < brokers; b++) if (b !== F) others.push(`broker-${b}`);
    const samples: { atMs: number; div: number }[] = [];
    const sample = (): void => {
      samples.push({ atMs: ctx.sim.nowUs / 1000, div: h.tracker.totalDivergence });
      if (ctx.sim.nowUs < 140_000_000) ctx.sim.at(ctx.sim.nowUs + 10_000, sample);
    };
    ctx.sim.at(0, sample);
    return {
      plan: {
        steps: [
          { atMs: 5_000, action: { type: 'partition', shape: { type: 'one-way', from: [`broker-${F}`], to: others } }, main: true },
          { atMs: ctx.params['heal.ms'] as number, action: { type: 'heal' } },
          { atMs: 140_000, action: { type: 'clear-link-faults' } },
        ],
      },
      metrics: () => h.tracker.metrics(),
      extra: () => {
        // Continuous divergence windows (ms) from the samples.
        const windows: number[] = [];
        let start = -1;
        for (const s of samples) {
          if (s.div > 0 && start < 0) start = s.atMs;
          if (s.div === 0 && start >= 0) {
            windows.push(s.atMs - start);
            start = -1;
          }
        }
        const t = h.tracker.truth;
        let withoutF = 0;
        for (let p = 0; p < t.size; p++) if (t.slotOf(p, F) >= 0 && !t.isrHas(p, F)) withoutF++;
        return { ...h.tracker.extra(), ...h.extra(), windows: windows.join(','), longestWindowMs: Math.max(0, ...windows), withoutFAtEnd: withoutF };
      },
    };
  },
});

function run(overrides: Record<string, ParamValue>, untilMs = 140_000) {
  return runOnce({ file: 'test', scenario: isrScenario, seed: 7, mode: 'zk', overrides: { partitions: 2400, ...overrides }, untilUs: untilMs * 1000 });
}

describe('ISR changes in ZK mode', () => {
  it('AlterPartition: leaders shrink a silent follower out of their ISRs through the controller, then add it back', () => {
    const mid = run({ 'heal.ms': 100_000 }, 70_000);
    expect(mid.violation).toBeNull();
    // Every partition led outside brokers 0 and 5 with broker 5 as follower lost it from the ISR.
    expect(mid.extra['withoutFAtEnd'] as number).toBeGreaterThan(0);
    expect(mid.extra['zk.isr.changes.committed.by.controller']).toBe(mid.extra['withoutFAtEnd']);
    expect(mid.extra['zk.isr.change.notifications']).toBe(0);
    const end = run({ 'heal.ms': 80_000 });
    expect(end.violation).toBeNull();
    expect(end.extra['withoutFAtEnd']).toBe(0);
    expect(end.extra['zk.isr.changes.committed.by.controller'] as number).toBe(2 * (mid.extra['withoutFAtEnd'] as number));
  });

  it('the shrink waits for replica.lag.time.max.ms: nothing changes before it', () => {
    const early = run({ 'heal.ms': 100_000 }, 5_000 + 30_000);
    expect(early.extra['withoutFAtEnd']).toBe(0);
    const shorter = run({ 'heal.ms': 100_000, 'replica.lag.time.max.ms': 10_000 }, 5_000 + 30_000);
    expect(shorter.extra['withoutFAtEnd'] as number).toBeGreaterThan(0);
  });

  it('isr_change_notification: brokers lag the ZooKeeper truth for at least the linger; with AlterPartition far less', () => {
    const alter = run({});
    const notif = run({ 'isr.change.notification.enable': true });
    for (const r of [alter, notif]) {
      expect(r.violation).toBeNull();
      expect(r.extra['withoutFAtEnd']).toBe(0);
    }
    expect(notif.extra['zk.isr.change.notifications'] as number).toBeGreaterThan(0);
    expect(notif.extra['zk.isr.changes.committed.by.controller']).toBe(0);
    const linger = ZK_PARAMS['isr.change.notification.linger.ms']!.default as number;
    expect(notif.extra['longestWindowMs'] as number).toBeGreaterThanOrEqual(linger);
    expect(alter.extra['longestWindowMs'] as number).toBeLessThan(linger);
    expect(notif.metrics.divergence.partitionMs!).toBeGreaterThan(10 * alter.metrics.divergence.partitionMs!);
  });
});
