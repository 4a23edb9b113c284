import { describe, expect, it } from 'vitest';
import { Simulation, type Message, type NodeBehavior, type SimNode } from '../../core/index.ts';

interface Heartbeat extends Message {
  readonly type: 'Heartbeat';
}

/**
 * A tiny failure detector: 'hb' sends a Heartbeat to 'mon' every 100 ms; 'mon' checks every 50 ms of
 * its own monotonic time and notes the sender as timed out after 300 ms of silence.
 */
function heartbeats() {
  const sim = new Simulation({ seed: 'hb' });
  const sentAt: number[] = [];
  const timeouts: number[] = [];
  const sender = (self: SimNode): NodeBehavior => {
    const tick = (): void => {
      sentAt.push(sim.nowUs);
      self.send(sim.node('mon'), { type: 'Heartbeat' } satisfies Heartbeat, 50);
      self.setTimer('heartbeat', 100_000, tick);
    };
    self.setTimer('heartbeat', 100_000, tick);
    return { onMessage() {} };
  };
  const monitor = (self: SimNode): NodeBehavior => {
    let lastHeardMono = self.monoNowUs;
    let timedOut = false;
    const check = (): void => {
      if (!timedOut && self.monoNowUs - lastHeardMono > 300_000) {
        timedOut = true;
        timeouts.push(sim.nowUs);
        self.note('session.expired', 0);
      }
      self.setTimer('check', 50_000, check);
    };
    self.setTimer('check', 50_000, check);
    return {
      onMessage(_from, msg) {
        if (msg.type === 'Heartbeat') {
          lastHeardMono = self.monoNowUs;
          timedOut = false;
        }
      },
    };
  };
  const hb = sim.addNode('hb', sender);
  const mon = sim.addNode('mon', monitor);
  return { sim, hb, mon, sentAt, timeouts };
}

describe('pause', () => {
  it("a paused node's timers fire late (on resume) and its peers time out", () => {
    const { sim, hb, sentAt, timeouts } = heartbeats();
    sim.at(1_050_000, () => sim.pause(hb));
    sim.at(2_030_000, () => sim.resume(hb));
    sim.run({ untilUs: 3_000_000 });
    expect(sentAt.filter((t) => t > 1_050_000 && t < 2_030_000)).toEqual([]);
    // The timer due at 1.1 s runs the moment the node resumes, then the rhythm continues from there.
    expect(sentAt).toContain(2_030_000);
    expect(sentAt).toContain(2_130_000);
    expect(timeouts).toHaveLength(1);
    expect(timeouts[0]!).toBeGreaterThan(1_300_000);
    expect(timeouts[0]!).toBeLessThan(2_030_000);
  });

  it('without the pause nobody times out', () => {
    const { sim, timeouts, sentAt } = heartbeats();
    sim.run({ untilUs: 3_000_000 });
    expect(timeouts).toEqual([]);
    expect(sentAt).toHaveLength(30);
  });

  it('messages to a paused node are processed when it resumes', () => {
    const { sim, mon, timeouts } = heartbeats();
    const delivered: number[] = [];
    sim.trace.sink = (r) => {
      if (r.kind === 'deliver' && r.node === mon.id) delivered.push(r.atUs);
    };
    sim.at(1_050_000, () => sim.pause(mon));
    sim.at(1_500_000, () => sim.resume(mon));
    sim.run({ untilUs: 2_000_000 });
    expect(delivered.filter((t) => t > 1_050_000 && t < 1_500_000)).toEqual([]);
    expect(delivered.filter((t) => t === 1_500_000).length).toBeGreaterThanOrEqual(4);
    // Its overdue check came due before the queued heartbeats, so on resume it first sees 450 ms of
    // silence: the false suspicion a long GC pause causes in a real failure detector.
    expect(timeouts).toEqual([1_500_000]);
  });
});

interface Seen {
  k: string | undefined;
  log: number[];
}

describe('crash, wipe and restart', () => {
  /** A node whose behaviour writes K/V and log entries; each start records what it finds on disk. */
  function storageNode() {
    const sim = new Simulation({ seed: 'disk' });
    const starts: Seen[] = [];
    const node = sim.addNode('n0', (self) => {
      starts.push({ k: self.store.get<string>('k'), log: [...self.store.log<number>('log').entries] });
      return { onMessage() {} };
    });
    const write = (atUs: number, fn: (n: SimNode) => void): void => {
      sim.at(atUs, () => fn(node), node);
    };
    write(1000, (n) => {
      n.store.put('k', 'v1');
      n.store.log<number>('log').append(1);
      n.store.log<number>('log').append(2);
      n.fsync('sync', 64);
    });
    write(100_000, (n) => {
      n.store.put('k', 'v2');
      n.store.log<number>('log').append(3);
    });
    return { sim, node, starts };
  }

  it('a crash loses unsynced writes and keeps synced ones; restart rebuilds from them', () => {
    const { sim, node, starts } = storageNode();
    sim.at(200_000, () => sim.crash(node));
    sim.at(300_000, () => sim.restart(node));
    sim.run({ untilUs: 1e6 });
    expect(starts).toEqual([
      { k: undefined, log: [] },
      { k: 'v1', log: [1, 2] },
    ]);
    expect(node.store.log('log').syncedLength).toBe(2);
  });

  it('a process crash that keeps the page cache keeps unsynced writes', () => {
    const { sim, node, starts } = storageNode();
    sim.at(200_000, () => sim.crash(node, false));
    sim.at(300_000, () => sim.restart(node));
    sim.run({ untilUs: 1e6 });
    expect(starts[1]).toEqual({ k: 'v2', log: [1, 2, 3] });
  });

  it('a write is durable only once its fsync completes', () => {
    const { sim, node, starts } = storageNode();
    sim.at(1001, () => sim.crash(node)); // fsync of 'v1' still running
    sim.at(300_000, () => sim.restart(node));
    sim.run({ untilUs: 1e6 });
    expect(starts[1]).toEqual({ k: undefined, log: [] });
  });

  it('wipe loses everything, synced or not', () => {
    const { sim, node, starts } = storageNode();
    sim.at(200_000, () => sim.faults.apply({ type: 'crash', node: 'n0' }));
    sim.at(200_000, () => sim.faults.apply({ type: 'wipe', node: 'n0' }));
    sim.at(300_000, () => sim.faults.apply({ type: 'restart', node: 'n0' }));
    sim.run({ untilUs: 1e6 });
    expect(starts[1]).toEqual({ k: undefined, log: [] });
  });

  it("events, timers and messages bound to a crashed node's old incarnation never run", () => {
    const sim = new Simulation({ seed: 'inc' });
    const ran: string[] = [];
    const a = sim.addNode('a', (self) => {
      if (self.incarnation === 0) {
        self.after(50_000, () => ran.push('after'));
        self.setTimer('t', 50_000, () => ran.push('timer'));
        self.executor('work').submit('job', 50_000, () => ran.push('executor'));
      }
      return { onMessage: () => ran.push(`message@${self.incarnation}`) };
    });
    const b = sim.addNode('b', () => ({ onMessage() {} }));
    sim.at(10_000, () => b.send(a, { type: 'Probe' }, 10_000_000)); // 8 ms on the wire
    sim.at(11_000, () => sim.crash(a));
    sim.at(12_000, () => sim.restart(a)); // back up before anything old was due
    sim.at(60_000, () => b.send(a, { type: 'Probe' }, 10));
    sim.run({ untilUs: 1e6 });
    expect(ran).toEqual(['message@1']);
    expect(a.incarnation).toBe(1);
  });
});

describe('executors', () => {
  it('run tasks one at a time: effects land at completion, queued work waits its turn', () => {
    const sim = new Simulation({ seed: 'exec' });
    const done: [string, number][] = [];
    const n = sim.addNode('n', () => ({ onMessage() {} }));
    sim.at(1000, () => {
      const e = n.executor('controller-event-thread');
      e.submit('a', 100, () => done.push(['a', sim.nowUs]));
      e.submit('b', 200, () => done.push(['b', sim.nowUs]));
      expect(e.queued).toBe(2);
      expect(e.idle).toBe(false);
      n.executor('request-handler').submit('x', 50, () => done.push(['x', sim.nowUs]));
    }, n);
    sim.at(1150, () => n.executor('controller-event-thread').submit('c', 10, () => done.push(['c', sim.nowUs])), n);
    sim.run({ untilUs: 1e6 });
    expect(done).toEqual([
      ['x', 1050], // another executor runs in parallel
      ['a', 1100],
      ['b', 1300],
      ['c', 1310], // submitted at 1150 while b ran: waits for b
    ]);
    const e = n.executor('controller-event-thread');
    expect(e.busyUs).toBe(310);
    expect(e.maxQueued).toBe(2);
    expect(e.idle).toBe(true);
  });

  it('a task submitted from a completing task queues behind what is already waiting', () => {
    const sim = new Simulation({ seed: 'exec2' });
    const order: string[] = [];
    const n = sim.addNode('n', () => ({ onMessage() {} }));
    sim.at(0, () => {
      const e = n.executor('t');
      e.submit('first', 10, () => {
        order.push('first');
        e.submit('third', 10, () => order.push('third'));
      });
      e.submit('second', 10, () => order.push('second'));
    }, n);
    sim.run({ untilUs: 1e6 });
    expect(order).toEqual(['first', 'second', 'third']);
    expect(sim.nowUs).toBe(30);
  });

  it('fsync costs the disk latency plus bytes over bandwidth, serially', () => {
    const sim = new Simulation({ seed: 'fs', disk: { fsyncUs: 1000, writeBytesPerSec: 1e6 } });
    const done: number[] = [];
    const n = sim.addNode('n', () => ({ onMessage() {} }));
    sim.at(0, () => {
      n.fsync('a', 1000, () => done.push(sim.nowUs));
      n.fsync('b', 0, () => done.push(sim.nowUs));
    }, n);
    sim.run({ untilUs: 1e6 });
    expect(done).toEqual([2000, 3000]);
  });
});

describe('timers that come due while their node is paused', () => {
  function pausedTimer(during: (n: SimNode, id: number) => void) {
    const sim = new Simulation({ seed: 'pt' });
    const fired: number[] = [];
    let id = -1;
    const n = sim.addNode('n', (self) => {
      id = self.setTimer('t', 100_000, () => fired.push(sim.nowUs));
      return { onMessage() {} };
    });
    sim.at(50_000, () => sim.pause(n));
    sim.at(150_000, () => during(n, id)); // not bound to the node, so it runs during the pause
    sim.at(200_000, () => sim.resume(n));
    sim.run({ untilUs: 1e6 });
    return fired;
  }

  it('fire once, on resume', () => {
    expect(pausedTimer(() => {})).toEqual([200_000]);
  });

  it('do not fire if cancelled during the pause, even when a new timer reuses its record', () => {
    expect(pausedTimer((n, id) => n.cancelTimer(id))).toEqual([]);
    const later: number[] = [];
    expect(
      pausedTimer((n, id) => {
        n.cancelTimer(id);
        n.setTimer('other', 500_000, () => later.push(n.sim.nowUs));
      }),
    ).toEqual([]);
    expect(later).toEqual([650_000]);
  });

  it('fire once if the clock changes during the pause', () => {
    expect(pausedTimer((n) => n.setClockRate(2))).toEqual([200_000]);
  });
});

describe('timers in event slots', () => {
  /** Four timers due at the same instant, set mono, wall, mono, wall; `between` runs at 500 µs. */
  function tiedTimers(between: (n: SimNode) => void) {
    const sim = new Simulation({ seed: 'ties' });
    const order: string[] = [];
    const n = sim.addNode('n', (self) => {
      for (const [label, kind] of [['a', 'mono'], ['b', 'wall'], ['c', 'mono'], ['d', 'wall']] as const) {
        self.setTimer(label, 1000, () => order.push(`${label}@${sim.nowUs}`), kind);
      }
      return { onMessage() {} };
    });
    sim.at(500, () => between(n));
    sim.run({ untilUs: 1e6 });
    return order;
  }

  it('tied timers fire in the order they were set', () => {
    expect(tiedTimers(() => {})).toEqual(['a@1000', 'b@1000', 'c@1000', 'd@1000']);
  });

  it('re-mapping only wall timers re-arms them after the mono ones', () => {
    expect(tiedTimers((n) => n.jumpWallClock(0))).toEqual(['a@1000', 'c@1000', 'b@1000', 'd@1000']);
  });

  it('a later re-map of every timer restores the order they were set in', () => {
    expect(
      tiedTimers((n) => {
        n.jumpWallClock(0);
        n.setClockRate(1);
      }),
    ).toEqual(['a@1000', 'b@1000', 'c@1000', 'd@1000']);
  });

  it('a re-mapped timer keeps its id: it can still be cancelled, and its old entry never fires', () => {
    const sim = new Simulation({ seed: 'remap' });
    const fired: string[] = [];
    let keep = -1;
    let drop = -1;
    const n = sim.addNode('n', (self) => {
      keep = self.setTimer('keep', 100_000, () => fired.push(`keep@${sim.nowUs}`));
      drop = self.setTimer('drop', 100_000, () => fired.push(`drop@${sim.nowUs}`));
      return { onMessage() {} };
    });
    sim.at(50_000, () => n.setClockRate(2)); // 50 ms of local time left: due at 75 ms
    sim.at(60_000, () => {
      expect(n.hasTimer(keep)).toBe(true);
      n.cancelTimer(drop);
      expect(n.hasTimer(drop)).toBe(false);
    });
    sim.run({ untilUs: 1e6 });
    expect(fired).toEqual(['keep@75000']);
    expect(n.hasTimer(keep)).toBe(false);
  });

  it("a timer id is its node's: another node cannot cancel it, and a crash drops it", () => {
    const sim = new Simulation({ seed: 'own' });
    const fired: string[] = [];
    let id = -1;
    const a = sim.addNode('a', (self) => {
      if (id < 0) id = self.setTimer('t', 100_000, () => fired.push('t'));
      return { onMessage() {} };
    });
    const b = sim.addNode('b', () => ({ onMessage() {} }));
    sim.at(10_000, () => {
      b.cancelTimer(id);
      expect(b.hasTimer(id)).toBe(false);
      expect(a.hasTimer(id)).toBe(true);
      sim.crash(a);
      expect(a.hasTimer(id)).toBe(false);
      sim.restart(a);
    });
    sim.run({ untilUs: 1e6 });
    expect(fired).toEqual([]);
  });

  it('cancelling a fired timer does nothing to the timer that reuses its slot', () => {
    const sim = new Simulation({ seed: 'reuse' });
    const fired: string[] = [];
    sim.addNode('n', (self) => {
      const first = self.setTimer('first', 1000, () => {
        fired.push('first');
        self.setTimer('second', 1000, () => fired.push('second'));
        self.cancelTimer(first);
      });
      return { onMessage() {} };
    });
    sim.run({ untilUs: 1e6 });
    expect(fired).toEqual(['first', 'second']);
  });
});
