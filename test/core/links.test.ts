import { describe, expect, it } from 'vitest';
import { DEFAULT_LINK } from '../../core/index.ts';
import { recordingSim } from './harness.ts';

/** n0 sends `count` probes to n1, one every `gapUs` from 1 ms, under `setup`; returns n1's deliveries. */
function stream(count: number, gapUs: number, setup: (h: ReturnType<typeof recordingSim>) => void, seed = 'links') {
  const h = recordingSim(2, { seed });
  setup(h);
  for (let i = 0; i < count; i++) h.sendAt(1000 + i * gapUs, h.nodes[0]!, h.nodes[1]!, i);
  h.sim.run({ untilUs: 1e9 });
  return h.deliveries;
}

const isSorted = (xs: readonly number[]): boolean => xs.every((x, i) => i === 0 || xs[i - 1]! <= x);

describe('link faults', () => {
  it('without faults a link is reliable and FIFO despite jitter', () => {
    const got = stream(500, 1, () => {});
    expect(got.map((d) => d.seq)).toEqual(Array.from({ length: 500 }, (_, i) => i));
    for (const d of got) expect(d.atUs).toBeGreaterThanOrEqual(1000 + DEFAULT_LINK.baseLatencyUs);
  });

  it('drop loses that fraction of messages on that direction only', () => {
    expect(stream(200, 100, (h) => h.sim.net.setLinkFault(0, 1, { drop: 1 }))).toHaveLength(0);
    expect(stream(200, 100, (h) => h.sim.net.setLinkFault(1, 0, { drop: 1 }))).toHaveLength(200);
    const half = stream(1000, 100, (h) => h.sim.net.setLinkFault(0, 1, { drop: 0.5 })).length;
    expect(half).toBeGreaterThan(400);
    expect(half).toBeLessThan(600);
  });

  it('delay adds its time to every message (fault plans give it in ms)', () => {
    const base = stream(50, 1000, () => {});
    const delayed = stream(50, 1000, (h) => h.sim.at(0, () => h.sim.faults.apply({ type: 'link-fault', from: 'n0', to: 'n1', delayMs: 20 })));
    expect(delayed).toHaveLength(50);
    // Same seed, same draws: each message arrives exactly 20 ms later.
    delayed.forEach((d, i) => expect(d.atUs - base[i]!.atUs).toBe(20_000));
  });

  it('clog holds every message, unclog releases them together in order', () => {
    const got = stream(20, 10_000, (h) => {
      h.sim.at(0, () => h.sim.faults.apply({ type: 'clog', from: 'n0', to: 'n1' }));
      h.sim.at(500_000, () => h.sim.faults.apply({ type: 'unclog', from: 'n0', to: 'n1' }));
    });
    expect(got.map((d) => d.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    const times = got.map((d) => d.atUs);
    expect(Math.min(...times)).toBeGreaterThanOrEqual(500_000);
    // A burst: all within a few latencies of the release, though sent 190 ms apart.
    expect(Math.max(...times) - Math.min(...times)).toBeLessThan(5_000);
  });

  it('duplicate delivers messages twice', () => {
    const got = stream(100, 1000, (h) => h.sim.net.setLinkFault(0, 1, { duplicate: 1 }));
    expect(got).toHaveLength(200);
    const counts = new Map<number, number>();
    for (const d of got) counts.set(d.seq, (counts.get(d.seq) ?? 0) + 1);
    expect([...counts.values()].every((c) => c === 2)).toBe(true);
    const some = stream(1000, 100, (h) => h.sim.net.setLinkFault(0, 1, { duplicate: 0.3 })).length;
    expect(some).toBeGreaterThan(1200);
    expect(some).toBeLessThan(1400);
  });

  it('reorder lets messages overtake each other; the other direction stays FIFO', () => {
    const reordered = stream(300, 10, (h) => h.sim.net.setLinkFault(0, 1, { reorder: 0.5, reorderWindowUs: 10_000 }));
    expect(reordered).toHaveLength(300);
    expect(isSorted(reordered.map((d) => d.seq))).toBe(false);
    const otherWay = stream(300, 10, (h) => h.sim.net.setLinkFault(1, 0, { reorder: 0.5 }));
    expect(isSorted(otherWay.map((d) => d.seq))).toBe(true);
  });

  it('bandwidth: a big message occupies its link for size / bandwidth, and the next waits behind it', () => {
    const bw = 10e6; // 10 MB/s
    const h = recordingSim(2, { link: { bandwidthBytesPerSec: bw, jitterMeanUs: 0 } });
    const [a, b] = [h.nodes[0]!, h.nodes[1]!];
    h.sendAt(0, a, b, 1, 5_000_000); // 0.5 s of transmission
    h.sendAt(0, a, b, 2, 100);
    h.sendAt(0, b, a, 3, 100); // the other direction has its own link
    h.sim.run({ untilUs: 1e9 });
    const at = new Map(h.deliveries.map((d) => [d.seq, d.atUs]));
    const lat = DEFAULT_LINK.baseLatencyUs;
    expect(at.get(1)).toBe(500_000 + lat);
    expect(at.get(2)).toBe(500_000 + 10 + lat);
    expect(at.get(3)).toBe(10 + lat);
  });
});
