import { describe, expect, it } from 'vitest';
import { Simulation, type SimNode } from '../../core/index.ts';

/** A node whose timer re-arms itself at zero delay from `startUs` on: simulated time stops there. */
function looping(startUs: number): Simulation {
  const sim = new Simulation({ seed: 'stall' });
  sim.addNode('quiet', () => ({ onMessage() {} }));
  sim.addNode('looper', (node: SimNode) => {
    const spin = (): void => {
      node.setTimer('spin', 0, spin);
    };
    node.setTimer('spin', startUs, spin);
    return { onMessage() {} };
  });
  return sim;
}

describe('the no-progress watchdog', () => {
  it('stops a run whose time stops advancing, naming the node and the label of the looping events', () => {
    const sim = looping(2500);
    const out = sim.run({ untilUs: 10_000_000, maxStalledEvents: 1000 });
    expect(out.reason).toBe('stalled');
    expect(out.nowUs).toBe(2500);
    expect(out.detail).toMatch(/stopped advancing at 2\.5 ms/);
    expect(out.detail).toContain("timer 'spin'");
    expect(out.detail).toContain('node looper');
    // It stopped right after the limit, not millions of events later.
    expect(out.events).toBeLessThan(1100);
  });

  it('is on by default', () => {
    const out = looping(0).run({ untilUs: 10_000_000 });
    expect(out.reason).toBe('stalled');
  });

  it('counts across slices of a run (maxEvents), so a run driven in slices is watched as a whole', () => {
    const sim = looping(100);
    let out;
    let calls = 0;
    do {
      calls++;
      out = sim.run({ untilUs: 10_000_000, maxStalledEvents: 1000, maxEvents: sim.eventsRun + 300 });
    } while (out.reason === 'event-limit' && calls < 100);
    expect(out.reason).toBe('stalled');
    expect(calls).toBeGreaterThan(1);
  });

  it('lets a burst at one instant below the limit through, and restarts its count when time moves', () => {
    const sim = new Simulation({ seed: 'burst' });
    let ran = 0;
    // Three bursts of 900 events at three instants: 2700 events, never 1000 in a row at one time.
    for (const at of [10, 20, 30]) for (let i = 0; i < 900; i++) sim.at(at, () => ran++);
    const out = sim.run({ untilUs: 1_000_000, maxStalledEvents: 1000 });
    expect(out.reason).toBe('quiescent');
    expect(ran).toBe(2700);
  });
});
