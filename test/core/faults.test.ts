import { describe, expect, it } from 'vitest';
import { FaultPlanError, Rng, Simulation, swarmPlan, type FaultPlan, type SimNode, type TraceRecord } from '../../core/index.ts';

/** Three nodes; n0 sends a Probe to n1 every 100 ms of its own time. Records every trace record. */
function pinger() {
  const sim = new Simulation({ seed: 'faults' });
  const records: TraceRecord[] = [];
  sim.trace.sink = (r) => records.push(r);
  const behavior = (self: SimNode) => {
    if (self.name === 'n0') {
      const tick = (): void => {
        self.send(sim.node('n1'), { type: 'Probe' }, 10);
        self.setTimer('probe', 100_000, tick);
      };
      self.setTimer('probe', 100_000, tick);
    }
    return { onMessage() {} };
  };
  const nodes = ['n0', 'n1', 'n2'].map((n) => sim.addNode(n, behavior));
  const faultsAt = (): [number, string, string | null][] =>
    records.filter((r) => r.kind === 'fault').map((r) => [r.atUs, r.label, r.node >= 0 ? sim.nodes[r.node]!.name : null]);
  return { sim, nodes, records, faultsAt };
}

describe('fault plans', () => {
  it('runs timed steps at their times, in time order whatever the listed order', () => {
    const { sim, nodes, records, faultsAt } = pinger();
    const plan: FaultPlan = {
      steps: [
        { atMs: 800, action: { type: 'restart', node: 'n1' } },
        { atMs: 500, action: { type: 'crash', node: 'n1' }, main: true },
        { atMs: 650.5, action: { type: 'pause', node: 'n2' } },
      ],
    };
    sim.installFaults(plan);
    expect(sim.faults.stepsRemaining).toBe(3);
    sim.run({ untilUs: 1_000_000 });
    expect(faultsAt()).toEqual([
      [500_000, 'crash', 'n1'],
      [650_500, 'pause', 'n2'],
      [800_000, 'restart', 'n1'],
    ]);
    expect(sim.faults.stepsRemaining).toBe(0);
    expect(sim.faults.mainFaultAtUs).toBe(500_000);
    expect(nodes[1]!.up && nodes[1]!.incarnation === 1).toBe(true);
    expect(nodes[2]!.paused).toBe(true);
    // While n1 was down, n0's probes to it were dropped.
    const dropped = records.filter((r) => r.kind === 'drop' && r.peer === 1).map((r) => r.atUs);
    expect(dropped.length).toBeGreaterThan(0);
    expect(dropped.every((t) => t > 500_000 && t < 800_000 + 1000)).toBe(true);
  });

  it('a trigger fires once, afterMs after the first matching record at or after fromMs', () => {
    const run = (fromMs?: number): [number, string, string | null][] => {
      const { sim, faultsAt } = pinger();
      sim.installFaults({
        steps: [],
        triggers: [
          {
            when: { kind: 'send', label: 'Probe', node: 'n0', peer: 'n1', ...(fromMs !== undefined ? { fromMs } : {}) },
            afterMs: 5,
            action: { type: 'partition', shape: { type: 'isolate', node: 'n1' } },
          },
          { when: { kind: 'send', label: 'Probe', node: 'n2' }, action: { type: 'crash', node: 'n0' } }, // never matches
        ],
      });
      sim.run({ untilUs: 1_000_000 });
      return faultsAt();
    };
    expect(run()).toEqual([[105_000, 'partition', 'n1']]);
    expect(run(350)).toEqual([[405_000, 'partition', 'n1']]);
    expect(run(400)).toEqual([[405_000, 'partition', 'n1']]);
  });

  it("'$name' refers to the node an earlier action bound, even after the role moves on", () => {
    const { sim, nodes, faultsAt } = pinger();
    let victim = 'n2';
    sim.faults.defineRole('victim', () => sim.node(victim));
    sim.installFaults({
      steps: [
        { atMs: 100, action: { type: 'pause', node: '@victim', bind: 'paused' } },
        { atMs: 200, action: { type: 'resume', node: '$paused' } },
        { atMs: 300, action: { type: 'crash', node: '@victim', bind: 'dead' } },
        { atMs: 400, action: { type: 'restart', node: '$dead' } },
      ],
    });
    sim.at(150_000, () => (victim = 'n0'));
    sim.run({ untilUs: 1_000_000 });
    expect(faultsAt()).toEqual([
      [100_000, 'pause', 'n2'],
      [200_000, 'resume', 'n2'],
      [300_000, 'crash', 'n0'],
      [400_000, 'restart', 'n0'],
    ]);
    expect(nodes.every((n) => n.up && !n.paused)).toBe(true);
  });

  it('an unbound $name, an unknown role or an unknown node is a FaultPlanError', () => {
    const { sim } = pinger();
    expect(() => sim.faults.apply({ type: 'restart', node: '$nobody' })).toThrow(FaultPlanError);
    expect(() => sim.faults.apply({ type: 'crash', node: '@nobody' })).toThrow(FaultPlanError);
    expect(() => sim.faults.apply({ type: 'crash', node: 'n9' })).toThrow(FaultPlanError);
    sim.faults.defineRole('gone', () => null);
    expect(() => sim.faults.apply({ type: 'crash', node: '@gone' })).toThrow(FaultPlanError);
  });
});

describe('swarmPlan', () => {
  const nodes = ['a', 'b', 'c', 'd', 'e'];
  const opts = { startMs: 1000, endMs: 60_000 };
  const plan = (seed: string): FaultPlan => swarmPlan(new Rng(seed).fork('swarm'), nodes, opts);

  it('is the same plan for the same seed', () => {
    for (const s of ['1', '2', '3']) expect(plan(s)).toEqual(plan(s));
  });

  it('differs across seeds', () => {
    const plans = Array.from({ length: 20 }, (_, i) => JSON.stringify(plan(String(i))));
    expect(new Set(plans).size).toBe(20);
  });

  it('always ends with heal-all at endMs, every step inside the window, and runs against a simulation', () => {
    for (let i = 0; i < 50; i++) {
      const p = plan(`end-${i}`);
      const last = [...p.steps].sort((x, y) => x.atMs - y.atMs).at(-1)!;
      expect(last.action.type).toBe('heal-all');
      expect(last.atMs).toBe(opts.endMs);
      expect(p.steps.every((s) => s.atMs >= opts.startMs && s.atMs <= opts.endMs)).toBe(true);
      expect(p.steps.filter((s) => s.action.type === 'heal-all')).toHaveLength(1);
    }
    // Every family draws nodes only from the list, so a plan installs and runs cleanly; heal-all
    // leaves every node up and unpaused.
    for (let i = 0; i < 10; i++) {
      const sim = new Simulation({ seed: i });
      for (const n of nodes) sim.addNode(n, () => ({ onMessage() {} }));
      sim.installFaults(plan(`run-${i}`));
      sim.run({ untilUs: 120_000_000 });
      expect(sim.faults.stepsRemaining).toBe(0);
      expect(sim.nodes.every((n) => n.up && !n.paused)).toBe(true);
    }
  });
});
