import { describe, expect, it } from 'vitest';
import { Simulation, WALL_EPOCH_US, type ClockKind, type SimNode } from '../../core/index.ts';

/** One idle node; `timerAt` sets a timer at virtual time atUs and records when it fires. */
function oneNode() {
  const sim = new Simulation({ seed: 'clock' });
  const node = sim.addNode('n0', () => ({ onMessage() {} }));
  const fired: Record<string, number> = {};
  const timerAt = (atUs: number, label: string, delayUs: number, kind: ClockKind = 'mono'): void => {
    sim.at(atUs, () => node.setTimer(label, delayUs, () => (fired[label] = sim.nowUs), kind), node);
  };
  const act = (atUs: number, fn: (n: SimNode) => void): void => {
    sim.at(atUs, () => fn(node));
  };
  return { sim, node, fired, timerAt, act };
}

describe('node clocks', () => {
  it('a timer without clock faults fires after exactly its delay', () => {
    const { sim, fired, timerAt } = oneNode();
    timerAt(1000, 'mono', 50_000);
    timerAt(1000, 'wall', 50_000, 'wall');
    sim.run({ untilUs: 1e9 });
    expect(fired).toEqual({ mono: 51_000, wall: 51_000 });
  });

  it('drift set before a timer moves it: a fast clock fires early, a slow one late', () => {
    const fast = oneNode();
    fast.act(0, (n) => n.setClockRate(2));
    fast.timerAt(1000, 't', 100_000);
    fast.sim.run({ untilUs: 1e9 });
    expect(fast.fired['t']).toBe(1000 + 50_000);

    const slow = oneNode();
    slow.act(0, (n) => n.setClockRate(0.5));
    slow.timerAt(1000, 't', 100_000);
    slow.sim.run({ untilUs: 1e9 });
    expect(slow.fired['t']).toBe(1000 + 200_000);
  });

  it('drift that starts while a timer is pending re-maps the rest of it', () => {
    const { sim, fired, timerAt, act } = oneNode();
    timerAt(0, 't', 100_000);
    act(40_000, (n) => n.setClockRate(2)); // 60 ms of local time left, at double speed
    sim.run({ untilUs: 1e9 });
    expect(fired['t']).toBe(40_000 + 30_000);
  });

  it('a wall-clock jump or offset moves wall timers and leaves monotonic timers alone', () => {
    const { sim, node, fired, timerAt, act } = oneNode();
    timerAt(0, 'mono', 100_000);
    timerAt(0, 'wall', 100_000, 'wall');
    timerAt(0, 'wall-offset', 300_000, 'wall');
    timerAt(0, 'mono-offset', 300_000);
    let monoBefore = 0;
    let monoAfter = 0;
    act(20_000, (n) => {
      monoBefore = n.monoNowUs;
      n.jumpWallClock(50_000); // NTP steps the wall clock 50 ms forward
      monoAfter = n.monoNowUs;
    });
    act(150_000, (n) => n.setWallOffset(-100_000)); // wall clock now 100 ms behind true time
    sim.run({ untilUs: 1e9 });
    expect(monoAfter).toBe(monoBefore);
    expect(fired['mono']).toBe(100_000);
    expect(fired['wall']).toBe(50_000);
    expect(fired['mono-offset']).toBe(300_000);
    // Wall deadline = epoch + 300 ms, +50 ms jump then an offset of -100 ms (replacing the jump).
    expect(fired['wall-offset']).toBe(400_000);
    expect(node.wallNowUs - node.monoNowUs).toBe(WALL_EPOCH_US - 100_000);
  });

  it('a backward wall jump delays a wall timer and not a monotonic one', () => {
    const { sim, fired, timerAt, act } = oneNode();
    timerAt(0, 'mono', 100_000);
    timerAt(0, 'wall', 100_000, 'wall');
    act(10_000, (n) => n.jumpWallClock(-30_000));
    sim.run({ untilUs: 1e9 });
    expect(fired).toEqual({ mono: 100_000, wall: 130_000 });
  });

  it('after drift, local clocks read whole µs and a timer never fires before its local deadline', () => {
    const { sim, node, act } = oneNode();
    act(1_000, (n) => n.setClockRate(1.0003));
    act(7_777, (n) => n.setClockRate(1));
    const early: string[] = [];
    let fires = 0;
    // Deadlines computed the way models do (from clock readings), with fractional delays.
    act(20_000, (n) => {
      const arm = (deadlineUs: number, left: number): void => {
        n.setTimer('probe', Math.max(0, deadlineUs - n.monoNowUs), () => {
          fires++;
          if (n.monoNowUs < deadlineUs) early.push(`${n.monoNowUs} < ${deadlineUs}`);
          if (left > 0) arm(n.monoNowUs + 1000 / 3, left - 1);
        });
      };
      arm(n.monoNowUs + 2000 / 3, 50);
    });
    sim.run({ untilUs: 1e9, maxEvents: 10_000 });
    expect(fires).toBe(51);
    expect(early).toEqual([]);
    expect(Number.isInteger(node.monoNowUs)).toBe(true);
    expect(Number.isInteger(node.wallNowUs)).toBe(true);
  });
});

