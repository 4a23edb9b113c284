import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ChangeSeries, MAX_POINTS, mergeAt, ROLE_ACTIVE, ROLE_DOWN, ROLE_NAMES } from '../../sim/cluster/series.ts';
import { runOnce } from '../../sim/run.ts';
import failover from '../../scenarios/controller-failover.ts';
import type { Mode, RunResult } from '../../sim/result.ts';

/** The value of a step series at time t (undefined before its first point). */
function at(t: readonly number[], v: readonly (number | null)[], time: number): number | null | undefined {
  let r: number | null | undefined;
  for (let i = 0; i < t.length && t[i]! <= time; i++) r = v[i];
  return r;
}

describe('ChangeSeries', () => {
  it('keeps change points only; two values at one instant leave the later one', () => {
    const s = new ChangeSeries();
    s.push(0, 1);
    s.push(5, 1);
    s.push(7, 3);
    s.push(7, 4);
    s.push(9, 4);
    s.push(12, null);
    expect(s.t).toEqual([0, 7, 12]);
    expect(s.v).toEqual([1, 4, null]);
    // A value that returns, at the same instant, to the one before cancels the point.
    s.push(12, 4);
    expect(s.t).toEqual([0, 7]);
  });

  it('stays bounded, keeps every peak and the final value exactly', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 0, max: 1000 })), { minLength: 1, maxLength: 12_000 }), (steps) => {
        const s = new ChangeSeries();
        let t = 0;
        let peak = -1;
        let last = -1;
        for (const [dt, v] of steps) {
          t += dt;
          s.push(t, v);
          peak = Math.max(peak, v);
          last = v;
        }
        expect(s.t.length).toBeLessThanOrEqual(MAX_POINTS);
        expect(Math.max(...s.v.map((v) => v ?? -1))).toBe(peak);
        expect(s.v[s.v.length - 1]).toBe(last);
        for (let i = 1; i < s.t.length; i++) expect(s.t[i]!).toBeGreaterThan(s.t[i - 1]!);
      }),
      { numRuns: 30 },
    );
  });

  it('merges only within the resolution: outside every window the step function is unchanged', () => {
    const t = [0, 100, 150, 5000, 5001, 9000];
    const v = [0, 7, 2, 9, 1, 0];
    const m = mergeAt(t, v, 1000);
    // Window [0, 1000): max 7 at 0, ends with 2 at 150. Window [5000, 6000): max 9, ends with 1.
    expect(m.t).toEqual([0, 150, 5000, 5001, 9000]);
    expect(m.v).toEqual([7, 2, 9, 1, 0]);
    for (const time of [200, 1000, 4999, 6000, 8999, 9500]) expect(at(m.t, m.v, time)).toBe(at(t, v, time));
  });
});

describe('series of a run (controller-failover, both modes)', () => {
  const run = (mode: Mode, series: boolean): RunResult =>
    runOnce({ file: 'scenarios/controller-failover.ts', scenario: failover, seed: 5, mode, overrides: { partitions: 2000 }, untilUs: 30 * 60 * 1_000_000, series });

  for (const mode of ['zk', 'kraft'] as const) {
    it(`${mode}: recording changes nothing in the run; the series agree with the figures`, () => {
      const plain = run(mode, false);
      const r = run(mode, true);
      expect(plain.series).toBeUndefined();
      expect(r.traceHash).toBe(plain.traceHash);
      const s = r.series!;
      expect(s.roleNames).toEqual(ROLE_NAMES);
      // Maxima over states that held for a positive span: the same rule as the metrics.
      expect(Math.max(0, ...s.unavailable.v.map((v) => v ?? 0))).toBe(r.metrics.maxUnavailablePartitions);
      const brokerMax = Math.max(
        0,
        ...s.brokers.flatMap((b) => [...b.stale.tMs, ...b.phantom.tMs].map((t) => (at(b.stale.tMs, b.stale.v, t) ?? 0) + (at(b.phantom.tMs, b.phantom.v, t) ?? 0))),
      );
      expect(brokerMax).toBe(r.metrics.divergence.maxPartitions);
      if (mode === 'zk') expect(brokerMax).toBeGreaterThan(0);
      // The main fault is the crash of the active controller: its node's role goes down then, and
      // another node ends up active.
      const main = s.faults.find((f) => f.main)!;
      expect(main.type).toBe('crash');
      expect(main.startMs).toBe(10_000);
      const crashed = s.controllers.find((c) => c.node === main.node)!;
      expect(at(crashed.role.tMs, crashed.role.v, main.startMs - 1)).toBe(ROLE_ACTIVE);
      expect(at(crashed.role.tMs, crashed.role.v, main.startMs)).toBe(ROLE_DOWN);
      const activeAtEnd = s.controllers.filter((c) => c.role.v[c.role.v.length - 1] === ROLE_ACTIVE);
      expect(activeAtEnd.length).toBe(1);
      expect(activeAtEnd[0]!.node).not.toBe(main.node);
      if (mode === 'zk') {
        // One session (the crashed controller's) expires: the leader tracks one fewer.
        const leader = s.zkSessions.find((z) => z.sessions.v.some((v) => v !== null && v > 0))!;
        const v = leader.sessions.v.filter((x): x is number => x !== null);
        expect(v[v.length - 1]).toBe(v[0]! - 1);
        expect(s.raftEpochs).toEqual([]);
      } else {
        // Every voter has a role row; the survivors' epoch went up by the election.
        expect(s.controllers.map((c) => c.node)).toEqual(s.raftEpochs.map((e) => e.node));
        for (const e of s.raftEpochs.filter((e) => e.node !== main.node)) expect(e.epoch.v[e.epoch.v.length - 1]!).toBeGreaterThan(e.epoch.v[0]!);
        expect(s.zkSessions).toEqual([]);
      }
    });
  }
});
