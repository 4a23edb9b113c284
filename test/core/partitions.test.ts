import { describe, expect, it } from 'vitest';
import type { FaultAction, PartitionSpec } from '../../core/index.ts';
import { recordingSim } from './harness.ts';

const N = 5;
const names = Array.from({ length: N }, (_, i) => `n${i}`);

/** Applies `shape` at 1 ms, has every node send to every other at 2 ms, returns who heard whom. */
function reachability(shape: PartitionSpec | null, then?: FaultAction): Set<string> {
  const { sim, nodes, deliveries, sendAt } = recordingSim(N);
  if (shape !== null) sim.at(1000, () => sim.faults.apply({ type: 'partition', shape }));
  if (then !== undefined) sim.at(1500, () => sim.faults.apply(then));
  for (const a of nodes) for (const b of nodes) if (a !== b) sendAt(2000, a, b, 0);
  sim.run({ untilUs: 1e7 });
  return new Set(deliveries.map((d) => `${d.from}>${d.to}`));
}

/** Every ordered pair except those `blocked` says are cut. */
function expected(blocked: (a: string, b: string) => boolean): Set<string> {
  const out = new Set<string>();
  for (const a of names) for (const b of names) if (a !== b && !blocked(a, b)) out.add(`${a}>${b}`);
  return out;
}

const inAny = (xs: readonly string[], x: string): boolean => xs.includes(x);

describe('partition shapes', () => {
  it('with no partition everyone hears everyone', () => {
    expect(reachability(null)).toEqual(expected(() => false));
  });

  it('symmetric: both directions between the sides, nothing within a side', () => {
    const a = ['n0', 'n1'];
    const b = ['n2', 'n3', 'n4'];
    const cut = (x: string, y: string): boolean => (inAny(a, x) && inAny(b, y)) || (inAny(b, x) && inAny(a, y));
    expect(reachability({ type: 'symmetric', a, b })).toEqual(expected(cut));
  });

  it('one-way: only from → to', () => {
    const from = ['n0', 'n1'];
    const to = ['n3'];
    expect(reachability({ type: 'one-way', from, to })).toEqual(expected((x, y) => inAny(from, x) && inAny(to, y)));
  });

  it('isolate: every link into and out of the node', () => {
    expect(reachability({ type: 'isolate', node: 'n2' })).toEqual(expected((x, y) => x === 'n2' || y === 'n2'));
  });

  it('bridge: the sides cannot talk, the bridge talks to both', () => {
    const a = ['n0', 'n1'];
    const b = ['n3', 'n4'];
    const cut = (x: string, y: string): boolean => (inAny(a, x) && inAny(b, y)) || (inAny(b, x) && inAny(a, y));
    expect(reachability({ type: 'bridge', a, bridge: 'n2', b })).toEqual(expected(cut));
  });

  it('majorities-ring: each node reaches a majority both ways, no two the same majority', () => {
    const order = ['n3', 'n0', 'n4', 'n1', 'n2'];
    const heard = reachability({ type: 'majorities-ring', nodes: order });
    const views = new Set<string>();
    for (const a of names) {
      const both = names.filter((b) => b === a || (heard.has(`${a}>${b}`) && heard.has(`${b}>${a}`)));
      expect(both.length).toBeGreaterThanOrEqual(Math.floor(N / 2) + 1);
      expect(both.length).toBeLessThan(N); // nobody sees everyone
      views.add(both.join(','));
    }
    expect(views.size).toBe(N);
    // Neighbours on the ring, in the order given, stay connected.
    for (let i = 0; i < N; i++) expect(heard.has(`${order[i]}>${order[(i + 1) % N]}`)).toBe(true);
  });

  it('groups: only within a group; nodes outside every group stay connected', () => {
    const groups = [['n0'], ['n1', 'n2'], ['n3']];
    const groupOf = (x: string): number => groups.findIndex((g) => g.includes(x));
    const cut = (x: string, y: string): boolean => groupOf(x) >= 0 && groupOf(y) >= 0 && groupOf(x) !== groupOf(y);
    expect(reachability({ type: 'groups', groups })).toEqual(expected(cut));
  });

  it('heal restores every link after any shape', () => {
    const all = expected(() => false);
    const shapes: PartitionSpec[] = [
      { type: 'symmetric', a: ['n0'], b: ['n1', 'n2'] },
      { type: 'one-way', from: ['n4'], to: ['n0'] },
      { type: 'isolate', node: 'n1' },
      { type: 'bridge', a: ['n0'], bridge: 'n1', b: ['n2'] },
      { type: 'majorities-ring', nodes: names },
      { type: 'groups', groups: [['n0', 'n1'], ['n2', 'n3', 'n4']] },
    ];
    for (const s of shapes) {
      expect(reachability(s, { type: 'heal' })).toEqual(all);
      expect(reachability(s, { type: 'heal-all' })).toEqual(all);
    }
  });

  it('a partition holds what is in flight and what is sent meanwhile; TCP retransmits it in order after heal', () => {
    const { sim, nodes, deliveries, sendAt } = recordingSim(2);
    const [a, b] = [nodes[0]!, nodes[1]!];
    sendAt(1000, a, b, 1); // in flight when the partition starts
    sendAt(1000, b, a, 2); // the other direction is not cut
    sim.at(1010, () => sim.faults.apply({ type: 'partition', shape: { type: 'one-way', from: ['n0'], to: ['n1'] } }));
    sendAt(500_000, a, b, 3); // sent during the partition
    sim.at(2_000_000, () => sim.faults.apply({ type: 'heal' }));
    sendAt(2_000_100, a, b, 4); // after the heal, behind the retransmitted ones
    sim.run({ untilUs: 1e8 });
    const ab = deliveries.filter((d) => d.from === 'n0');
    expect(ab.map((d) => d.seq)).toEqual([1, 3, 4]);
    // Nothing crosses before the heal; the retransmission comes at most TCP_RTO_MIN (200 ms) after it.
    expect(ab[0]!.atUs).toBeGreaterThan(2_000_000);
    expect(ab[0]!.atUs).toBeLessThan(2_000_000 + 200_000 + 10_000);
    expect(deliveries.find((d) => d.seq === 2)!.atUs).toBeLessThan(10_000);
  });

  it('a partition longer than the retransmission give-up breaks the connection and loses what it held', () => {
    const { sim, nodes, deliveries, records, sendAt } = recordingSim(2);
    const [a, b] = [nodes[0]!, nodes[1]!];
    sim.net.tcp = { ...sim.net.tcp, giveUpUs: 5_000_000 };
    sim.at(1000, () => sim.faults.apply({ type: 'partition', shape: { type: 'isolate', node: 'n1' } }));
    sendAt(2000, a, b, 1);
    sim.at(6_000_000, () => sim.faults.apply({ type: 'heal' }));
    sendAt(6_000_100, a, b, 2); // a new connection
    sim.run({ untilUs: 1e9 });
    expect(deliveries.map((d) => d.seq)).toEqual([2]);
    expect(records.some((r) => r.kind === 'drop' && r.node === a.id && r.peer === b.id && r.label === 'Probe')).toBe(true);
  });

  it('a sender that crashes while its packets are held retransmits nothing; a receiver that restarts gets nothing old', () => {
    const { sim, nodes, deliveries, sendAt } = recordingSim(3);
    const [a, b, c] = [nodes[0]!, nodes[1]!, nodes[2]!];
    sim.at(1000, () => sim.faults.apply({ type: 'partition', shape: { type: 'symmetric', a: ['n0', 'n2'], b: ['n1'] } }));
    sendAt(2000, a, b, 1); // a crashes before the heal
    sendAt(2000, c, b, 2); // b restarts before the heal
    sendAt(2000, c, a, 3); // same side: delivered at once
    sim.at(100_000, () => sim.crash(a));
    sim.at(200_000, () => sim.crash(b));
    sim.at(300_000, () => sim.restart(b));
    sim.at(1_000_000, () => sim.faults.apply({ type: 'heal' }));
    sim.run({ untilUs: 1e8 });
    expect(deliveries.map((d) => d.seq)).toEqual([3]);
  });
});
