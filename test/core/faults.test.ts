import { describe, expect, it } from 'vitest';
import { allBut, FaultPlanError, Rng, select, Simulation, swarmPlan, type FaultPlan, type SimNode, type TraceRecord, type WatchedRecord } from '../../core/index.ts';

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

describe('selectors', () => {
  it('a group, all-but, the lowest id, and avoid (unless nothing else is left) resolve when the action runs', () => {
    const { sim, faultsAt } = pinger();
    let leader = 'n0';
    sim.faults.defineRole('leader', () => sim.node(leader));
    sim.faults.defineRole('pair', () => [sim.node('n2'), sim.node('n1')]);
    sim.installFaults({
      steps: [
        // every node but the leader (n0 now): n1, n2
        { atMs: 100, action: { type: 'pause', node: allBut('@leader'), bind: 'rest' } },
        { atMs: 150, action: { type: 'resume', node: '$rest' } },
        // a member of the group that is not the leader (n1 by then), the lowest id
        { atMs: 200, action: { type: 'crash', node: select('@pair', { except: '@leader', pick: 'lowest' }), bind: 'v' } },
        { atMs: 250, action: { type: 'restart', node: '$v' } },
        // avoid the leader unless nothing else is left: only n1 is in the group, and it is the leader
        { atMs: 300, action: { type: 'pause', node: select(['n1'], { avoid: '@leader' }) } },
        // up nodes only
        { atMs: 350, action: { type: 'resume', node: select('@all', { state: 'up', except: ['n0', 'n2'] }) } },
      ],
    });
    sim.at(180_000, () => (leader = 'n2'));
    sim.at(280_000, () => (leader = 'n1'));
    sim.run({ untilUs: 1_000_000 });
    expect(faultsAt()).toEqual([
      [100_000, 'pause', null],
      [150_000, 'resume', null],
      [200_000, 'crash', 'n1'],
      [250_000, 'restart', 'n1'],
      [300_000, 'pause', 'n1'],
      [350_000, 'resume', 'n1'],
    ]);
    expect(sim.faults.resolveAll('$rest').map((n) => n.name)).toEqual(['n1', 'n2']);
  });

  it("pick 'random' draws from the run's fault stream: the same node for the same seed, not always the same across seeds", () => {
    const chosen = (seed: string): string => {
      const sim = new Simulation({ seed });
      for (const n of ['a', 'b', 'c', 'd', 'e']) sim.addNode(n, () => ({ onMessage() {} }));
      sim.installFaults({ steps: [{ atMs: 10, action: { type: 'crash', node: select('@all', { except: 'a', pick: 'random' }), bind: 'x' } }] });
      sim.run({ untilUs: 1_000_000 });
      return sim.faults.resolve('$x').name;
    };
    expect(chosen('s1')).toBe(chosen('s1'));
    const seen = new Set(Array.from({ length: 20 }, (_, i) => chosen(`s${i}`)));
    expect(seen.has('a')).toBe(false);
    expect(seen.size).toBeGreaterThan(1);
  });

  it('a selector that leaves no node, or several where one is needed, is a FaultPlanError', () => {
    const { sim } = pinger();
    expect(() => sim.faults.apply({ type: 'crash', node: allBut('n0', 'n1', 'n2') })).toThrow(/names no node/);
    expect(() => sim.faults.apply({ type: 'partition', shape: { type: 'isolate', node: allBut('n0') } })).toThrow(/where one is needed/);
    // An unbound name in `except` excludes nothing.
    sim.faults.apply({ type: 'pause', node: select('@all', { except: '$nobody' }), bind: 'p' });
    expect(sim.faults.resolveAll('$p')).toHaveLength(3);
  });

  it('bind on a partition names its subject: the isolated node, side a of a symmetric cut', () => {
    const { sim, records } = pinger();
    let leader = 'n1';
    sim.faults.defineRole('leader', () => sim.node(leader));
    sim.installFaults({
      steps: [
        { atMs: 100, action: { type: 'partition', shape: { type: 'isolate', node: '@leader' }, bind: 'cut' } },
        { atMs: 200, action: { type: 'heal' } },
        // The role moves; $cut is still the node that was cut off.
        { atMs: 300, action: { type: 'partition', shape: { type: 'symmetric', a: ['$cut'], b: [allBut('$cut')] }, bind: 'side' } },
        { atMs: 400, action: { type: 'heal' } },
      ],
    });
    sim.at(150_000, () => (leader = 'n2'));
    sim.run({ untilUs: 1_000_000 });
    expect(sim.faults.resolve('$cut').name).toBe('n1');
    expect(sim.faults.resolve('$side').name).toBe('n1');
    // While cut, n0's probes to n1 were held, not delivered.
    const delivered = records.filter((r) => r.kind === 'deliver' && r.node === 1).map((r) => r.atUs);
    expect(delivered.some((t) => t > 100_000 + 1000 && t < 200_000)).toBe(false);
    expect(delivered.some((t) => t > 300_000 + 1000 && t < 400_000)).toBe(false);
    expect(delivered.some((t) => t > 400_000)).toBe(true);
  });
});

describe('watch and act', () => {
  it('a watch sees the matching records in record order, with their nodes, until it is ended', () => {
    const { sim, records } = pinger();
    const seen: WatchedRecord[] = [];
    const stop = sim.faults.watch({ kind: 'send', label: 'Probe', node: 'n0' }, (r) => {
      seen.push(r);
      if (seen.length === 3) stop();
    });
    const timers: number[] = [];
    sim.faults.watch({ kind: 'timer', node: select('@all', { except: ['n1', 'n2'] }) }, (r) => timers.push(r.atUs));
    sim.installFaults({ steps: [] });
    sim.run({ untilUs: 1_000_000 });
    const sends = records.filter((r) => r.kind === 'send' && r.label === 'Probe').map((r) => r.atUs);
    expect(seen.map((r) => r.atUs)).toEqual(sends.slice(0, 3));
    expect(seen.every((r) => r.node?.name === 'n0' && r.peer?.name === 'n1')).toBe(true);
    expect(timers).toEqual(records.filter((r) => r.kind === 'timer' && r.node === 0).map((r) => r.atUs));
    expect(timers.length).toBeGreaterThan(5);
  });

  it('watches leave the trace hash alone', () => {
    const hash = (watch: boolean): string => {
      const { sim } = pinger();
      if (watch) sim.faults.watch({ kind: 'deliver' }, () => {});
      sim.installFaults({ steps: [{ atMs: 300, action: { type: 'crash', node: 'n1' } }] });
      sim.run({ untilUs: 1_000_000 });
      return sim.trace.hash();
    };
    expect(hash(true)).toBe(hash(false));
  });

  it('act from a watch runs as its own event and holds the plan open until it has run; a required trigger too', () => {
    const { sim, faultsAt } = pinger();
    const stop = sim.faults.watch({ kind: 'deliver', label: 'Probe', fromMs: 250 }, () => {
      stop();
      // The required trigger below has not fired yet.
      expect(sim.faults.stepsRemaining).toBe(1);
      sim.faults.act({ type: 'pause', node: 'n2', bind: 'p' }, { afterMs: 50 });
      expect(sim.faults.stepsRemaining).toBe(2);
    });
    sim.installFaults({
      steps: [],
      triggers: [{ when: { kind: 'fault', label: 'pause', value: 0 }, afterMs: 100, action: { type: 'resume', node: '$p' }, required: true }],
    });
    expect(sim.faults.stepsRemaining).toBe(1);
    sim.run({ untilUs: 1_000_000 });
    const f = faultsAt();
    expect(f.map(([, l, n]) => [l, n])).toEqual([['pause', 'n2'], ['resume', 'n2']]);
    expect(f[1]![0] - f[0]![0]).toBe(100_000);
    expect(sim.faults.stepsRemaining).toBe(0);
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
