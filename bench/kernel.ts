/**
 * Kernel throughput on the hold model (pop one event, schedule one at now + Exp(mean), so the queue
 * stays at N): node-bound timers through Simulation — timer bookkeeping, incarnation and pause
 * checks, the trace hash — next to a bare loop over core/heap.ts with the same draws. The ratio is
 * what the kernel's bookkeeping costs on top of the queue itself.
 */
import { EventHeap } from '../core/heap.ts';
import { Rng } from '../core/rng.ts';
import { Simulation } from '../core/sim.ts';

const MEAN_US = 1_000_000;
const NODES = 16;
const EVENTS = 2_000_000;
const WARMUP_EVENTS = 300_000;

function bareHeap(queued: number, events: number): number {
  const rng = new Rng('bench').fork('hold');
  const heap = new EventHeap(queued);
  let seq = 0;
  for (let i = 0; i < queued; i++) heap.push(Math.round(rng.exp(MEAN_US)), seq++, i);
  const start = performance.now();
  for (let e = 0; e < events; e++) {
    const t = heap.peekTime();
    const slot = heap.pop();
    heap.push(t + Math.round(rng.exp(MEAN_US)), seq++, slot);
  }
  return events / ((performance.now() - start) / 1000);
}

function kernel(queued: number, events: number): number {
  const sim = new Simulation({ seed: 'bench' });
  for (let n = 0; n < NODES; n++) {
    sim.addNode(`node-${n}`, (node) => {
      const hold = (): void => {
        node.setTimer('hold', Math.round(node.rng.exp(MEAN_US)), hold);
      };
      const mine = Math.floor(queued / NODES) + (n < queued % NODES ? 1 : 0);
      for (let i = 0; i < mine; i++) hold();
      return { onMessage() {} };
    });
  }
  sim.run({ untilUs: Infinity, maxEvents: NODES }); // the nodes start and queue their timers
  if (sim.pendingEvents !== queued) throw new Error(`bench: expected ${queued} queued events, found ${sim.pendingEvents}`);
  const start = performance.now();
  const out = sim.run({ untilUs: Infinity, maxEvents: NODES + events });
  const rate = (out.events - NODES) / ((performance.now() - start) / 1000);
  if (sim.trace.count < events) throw new Error('bench: the trace did not record every timer');
  return rate;
}

const fmt = (perSec: number): string => `${(perSec / 1e6).toFixed(2)} M events/s`;

const ROUNDS = 5;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

// Alternate the two loops over several rounds so a busy machine slows both alike; report medians.
for (const queued of [10_000, 100_000]) {
  bareHeap(queued, WARMUP_EVENTS);
  kernel(queued, WARMUP_EVENTS);
  const bares: number[] = [];
  const kerns: number[] = [];
  const ratios: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const b = bareHeap(queued, EVENTS / 2);
    const k = kernel(queued, EVENTS / 2);
    bares.push(b);
    kerns.push(k);
    ratios.push(k / b);
  }
  process.stdout.write(
    `hold model, ${queued.toLocaleString('en-US')} queued, ${ROUNDS} rounds of ${(EVENTS / 2).toLocaleString('en-US')} events: ` +
      `kernel ${fmt(median(kerns))}, bare heap ${fmt(median(bares))}, kernel/bare ${median(ratios).toFixed(2)} (median; rounds ${ratios.map((x) => x.toFixed(2)).join(' ')})\n`,
  );
}
