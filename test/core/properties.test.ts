import { describe, expect, it } from 'vitest';
import { Simulation } from '../../core/index.ts';

/** n0 counts up every 10 ms and notes each value. */
function counter() {
  const sim = new Simulation({ seed: 'props' });
  let count = 0;
  sim.addNode('n0', (self) => {
    const tick = (): void => {
      count++;
      self.note('counter', count);
      self.setTimer('tick', 10_000, tick);
    };
    self.setTimer('tick', 10_000, tick);
    return { onMessage() {} };
  });
  return { sim, value: () => count };
}

describe('safety properties', () => {
  it('a failing check stops the run and reports invariant, time, event and replay command', () => {
    const { sim, value } = counter();
    sim.props.replayCommand = 'npx sim run scenarios/x.ts --seed 3';
    sim.props.safety('counter-below-5', () => (value() >= 5 ? `counter reached ${value()}` : null), { on: ['counter'] });
    let everyEvent = 0;
    sim.props.safety('always-holds', () => (everyEvent++, null));
    const out = sim.run({ untilUs: 10_000_000 });
    expect(out.reason).toBe('violation');
    const v = sim.props.violation!;
    expect(v).toMatchObject({
      invariant: 'counter-below-5',
      kind: 'safety',
      atUs: 50_000,
      atMs: 50,
      detail: 'counter reached 5',
      replay: 'npx sim run scenarios/x.ts --seed 3',
      event: { kind: 'state', node: 'n0', label: 'counter' },
    });
    expect(v.event.index).toBe(sim.trace.count);
    // Nothing ran after the violating event.
    expect(sim.nowUs).toBe(50_000);
    expect(value()).toBe(5);
    const results = Object.fromEntries(sim.props.results().map((r) => [r.name, r]));
    // Woken only by 'counter' records: once per note.
    expect(results['counter-below-5']).toMatchObject({ checks: 5, violations: 1 });
    expect(results['always-holds']!.checks).toBe(out.events);
    expect(everyEvent).toBe(out.events);
  });

  it('a check that holds lets the run reach its time limit', () => {
    const { sim } = counter();
    sim.props.safety('fine', () => null, { on: ['counter'] });
    const out = sim.run({ untilUs: 1_000_000 });
    expect(out.reason).toBe('time-limit');
    expect(sim.props.violation).toBeNull();
    expect(sim.props.results()[0]!.checks).toBe(100);
  });
});

describe('liveness properties', () => {
  const plan = { steps: [{ atMs: 100, action: { type: 'heal' as const } }] };

  it('one never satisfied fails at its deadline, holding the run open past --until', () => {
    const { sim } = counter();
    sim.props.liveness('converges', 1_000_000, () => 'still diverged');
    sim.installFaults(plan);
    const out = sim.run({ untilUs: 200_000 }); // after the last fault, before the deadline
    expect(out.reason).toBe('violation');
    expect(sim.props.violation).toMatchObject({ invariant: 'converges', kind: 'liveness', atUs: 1_100_000 });
    expect(sim.props.violation!.detail).toContain('still diverged');
  });

  it('one satisfied before its deadline passes', () => {
    const { sim, value } = counter();
    sim.props.liveness('reaches-50', 1_000_000, () => (value() >= 50 ? null : `only ${value()}`));
    sim.installFaults(plan);
    const out = sim.run({ untilUs: 2_000_000 });
    expect(out.reason).toBe('time-limit');
    expect(sim.props.violation).toBeNull();
    const at = sim.props.livenessSatisfiedAt('reaches-50');
    expect(at).toBeGreaterThanOrEqual(500_000);
    expect(at).toBeLessThanOrEqual(510_000);
    expect(sim.props.results()[0]).toMatchObject({ name: 'reaches-50', kind: 'liveness', violations: 0 });
  });

  it('a window restarts at every fault action: it is measured from the last one', () => {
    const { sim, value } = counter();
    // Satisfiable only from 1.5 s on; the window opens at the last fault (1 s) and lasts 0.6 s.
    sim.props.liveness('late', 600_000, () => (value() >= 150 ? null : 'not yet'));
    sim.installFaults({ steps: [{ atMs: 100, action: { type: 'heal' } }, { atMs: 1000, action: { type: 'heal' } }] });
    sim.run({ untilUs: 3_000_000 });
    expect(sim.props.violation).toBeNull();
  });
});
