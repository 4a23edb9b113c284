import { describe, expect, it } from 'vitest';
import { Simulation } from '../../core/index.ts';

describe('executor tasks planned when they start', () => {
  it('a planned task computes its cost from the state left by the tasks before it, not from the state at submit', () => {
    const sim = new Simulation({ seed: 'plan' });
    const n = sim.addNode('n', () => ({ onMessage() {} }));
    let work = 1; // what the next task will find to do
    const done: [string, number][] = [];
    sim.at(0, () => {
      const e = n.executor('loader');
      e.submit('grow', 100, () => {
        work = 5;
        done.push(['grow', sim.nowUs]);
      });
      // Queued while `work` is 1; it starts after `grow` made it 5: 5 × 10 µs.
      e.submitPlanned('apply', () => work * 10, () => done.push(['apply', sim.nowUs]));
    }, n);
    sim.run({ untilUs: 1e6 });
    expect(done).toEqual([
      ['grow', 100],
      ['apply', 150],
    ]);
    expect(n.executor('loader').busyUs).toBe(150);
  });

  it('a blocking task holds its executor until it resumes: later tasks wait for the disk it waits on', () => {
    const sim = new Simulation({ seed: 'block', disk: { fsyncUs: 1000, writeBytesPerSec: 1e9 } });
    const n = sim.addNode('n', () => ({ onMessage() {} }));
    const done: [string, number][] = [];
    sim.at(0, () => {
      const e = n.executor('loader');
      e.submitBlocking('makeLeader', () => 10, (resume) => {
        done.push(['cpu', sim.nowUs]);
        n.executor('disk').submit('checkpoint', 1000, () => {
          done.push(['synced', sim.nowUs]);
          resume();
          resume(); // a second call does nothing
        });
      });
      e.submit('next', 5, () => done.push(['next', sim.nowUs]));
    }, n);
    sim.run({ untilUs: 1e6 });
    expect(done).toEqual([
      ['cpu', 10],
      ['synced', 1010],
      ['next', 1015],
    ]);
  });

  it('a resume from before a crash does not restart the new incarnation\'s queue', () => {
    const sim = new Simulation({ seed: 'crash' });
    const n = sim.addNode('n', () => ({ onMessage() {} }));
    let stale: (() => void) | null = null;
    const done: string[] = [];
    sim.at(1, () => {
      const e = n.executor('loader');
      e.submitBlocking('held', () => 0, (resume) => {
        stale = resume;
      });
    }, n);
    sim.at(10, () => sim.crash(n));
    sim.at(20, () => sim.restart(n));
    sim.at(30, () => {
      const e = n.executor('loader');
      e.submitBlocking('held2', () => 0, () => done.push('held2 started'));
      e.submit('after', 1, () => done.push('after'));
      stale!();
    });
    sim.run({ untilUs: 1e6 });
    // held2 never resumed, so 'after' must still be waiting: the stale resume did not start it.
    expect(done).toEqual(['held2 started']);
    expect(n.executor('loader').queued).toBe(1); // 'after'
    expect(n.executor('loader').idle).toBe(false);
  });
});
