import { describe, expect, it } from 'vitest';
import { Rng, Simulation } from '../../core/index.ts';

const draws = (r: Rng, n = 20): number[] => Array.from({ length: n }, () => r.next());

describe('Rng streams', () => {
  it('a forked stream does not depend on other forks, their order, or the parent draws', () => {
    const a1 = new Rng('7').fork('a');
    const p2 = new Rng('7');
    p2.fork('b');
    p2.fork('c');
    draws(p2, 100); // parent draws before forking
    const a2 = p2.fork('a');
    const p3 = new Rng('7');
    const a3 = p3.fork('a');
    p3.fork('b');
    expect(draws(a2)).toEqual(draws(a1));
    expect(draws(a3)).toEqual(draws(new Rng('7').fork('a')));
  });

  it('forking leaves the parent stream unchanged', () => {
    const plain = new Rng('9');
    const forked = new Rng('9');
    forked.fork('x');
    forked.fork('y');
    expect(draws(forked)).toEqual(draws(plain));
  });

  it('different labels and different seeds give different streams', () => {
    expect(draws(new Rng('1').fork('a'))).not.toEqual(draws(new Rng('1').fork('b')));
    expect(draws(new Rng('1').fork('a'))).not.toEqual(draws(new Rng('2').fork('a')));
  });

  it("adding a node does not shift another node's draws or the network's", () => {
    const nodeDraws = (names: string[], who: string): number[] => {
      const sim = new Simulation({ seed: 42 });
      for (const n of names) sim.addNode(n, () => ({ onMessage() {} }));
      return draws(sim.node(who).rng);
    };
    const base = nodeDraws(['a', 'b'], 'b');
    expect(nodeDraws(['z', 'a', 'b', 'c'], 'b')).toEqual(base);
    expect(nodeDraws(['b'], 'b')).toEqual(base);
    expect(nodeDraws(['a', 'b'], 'a')).not.toEqual(base);
  });

  it('the helpers stay in range', () => {
    const r = new Rng('h');
    for (let i = 0; i < 1000; i++) {
      const k = r.int(7);
      expect(Number.isInteger(k) && k >= 0 && k < 7).toBe(true);
      const j = r.range(-3, 4);
      expect(j >= -3 && j < 4).toBe(true);
      expect(r.exp(10)).toBeGreaterThanOrEqual(0);
    }
    expect(r.shuffle([1, 2, 3, 4, 5]).sort()).toEqual([1, 2, 3, 4, 5]);
  });
});
