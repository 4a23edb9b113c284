import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Simulation, type SimNode } from '../../core/index.ts';
import { makeLayout } from '../../sim/cluster/layout.ts';
import { ClusterTracker, EQUAL, PHANTOM, STALE } from '../../sim/cluster/tracker.ts';
import { reportThrough } from './report-through.ts';

/**
 * The tracker's incremental counts against a brute-force recomputation from first principles, on
 * small random histories: every figure after every step, and the integrals and maxima at the end.
 */

const B = 3;
const P = 5;
const RF = 2;

interface State { l: number; le: number; isr: number }
const key = (s: State): string => `${s.l}/${s.le}/${s.isr}`;

const state = fc.record({ l: fc.integer({ min: -1, max: B - 1 }), le: fc.integer({ min: 0, max: 1 }), isr: fc.integer({ min: 0, max: 3 }) });
const broker = fc.integer({ min: 0, max: B - 1 });
const part = fc.integer({ min: 0, max: P - 1 });
const op = fc.oneof(
  fc.record({ t: fc.constant('commit' as const), p: part, s: state }),
  fc.record({ t: fc.constant('apply' as const), b: broker, p: part, s: state }),
  fc.record({ t: fc.constant('applyTruth' as const), b: broker, p: part }),
  fc.record({ t: fc.constant('applyTruth' as const), b: broker, p: part }),
  fc.record({ t: fc.constant('applyAgain' as const), b: broker, p: part }),
  fc.record({ t: fc.constant('wait' as const), ms: fc.integer({ min: 1, max: 50 }) }),
  fc.record({ t: fc.constant('wait' as const), ms: fc.integer({ min: 1, max: 50 }) }),
  fc.record({ t: fc.constant('crash' as const), b: broker }),
  fc.record({ t: fc.constant('restart' as const), b: broker }),
  fc.record({ t: fc.constant('pause' as const), b: broker }),
  fc.record({ t: fc.constant('resume' as const), b: broker }),
  fc.record({ t: fc.constant('reset' as const), b: broker }),
  fc.record({ t: fc.constant('serving' as const), b: broker, v: fc.boolean() }),
);

class Reference {
  truth: State[];
  committed: Set<string>[];
  cache: (State | null)[][];
  live = new Array<boolean>(B).fill(true);
  serving = new Array<boolean>(B).fill(true);
  unavailableMs = 0;
  divergenceMs = 0;
  maxBrokerDivergence = 0;
  maxUnavailable = 0;
  phantomApplies = 0;

  constructor(replicas: Int32Array) {
    this.truth = Array.from({ length: P }, (_, p) => ({ l: replicas[p * RF]!, le: 0, isr: 3 }));
    this.committed = this.truth.map((s) => new Set([key(s)]));
    this.cache = Array.from({ length: B }, () => this.truth.map((s) => ({ ...s })));
  }

  status(b: number, p: number): number {
    const c = this.cache[b]![p]!;
    if (c !== null && key(c) === key(this.truth[p]!)) return EQUAL;
    if (c === null || this.committed[p]!.has(key(c))) return STALE;
    return PHANTOM;
  }
  divergence(b: number): number {
    let n = 0;
    for (let p = 0; p < P; p++) if (this.status(b, p) !== EQUAL) n++;
    return n;
  }
  phantoms(b: number): number {
    let n = 0;
    for (let p = 0; p < P; p++) if (this.status(b, p) === PHANTOM) n++;
    return n;
  }
  total(): number {
    let n = 0;
    for (let b = 0; b < B; b++) if (this.live[b]) n += this.divergence(b);
    return n;
  }
  available(p: number): boolean {
    const t = this.truth[p]!;
    if (t.l < 0 || !this.live[t.l] || !this.serving[t.l]) return false;
    const c = this.cache[t.l]![p]!;
    return c !== null && c.l === t.l && c.le === t.le;
  }
  unavailable(): number {
    let n = 0;
    for (let p = 0; p < P; p++) if (!this.available(p)) n++;
    return n;
  }
  selfLeaders(p: number): number {
    let n = 0;
    for (let b = 0; b < B; b++) if (this.live[b] && this.cache[b]![p]?.l === b) n++;
    return n;
  }
  maxLiveDivergence(): number {
    let m = 0;
    for (let b = 0; b < B; b++) if (this.live[b]) m = Math.max(m, this.divergence(b));
    return m;
  }
  elapse(ms: number): void {
    this.unavailableMs += this.unavailable() * ms;
    this.divergenceMs += this.total() * ms;
    this.sample();
  }
  sample(): void {
    this.maxBrokerDivergence = Math.max(this.maxBrokerDivergence, this.maxLiveDivergence());
    this.maxUnavailable = Math.max(this.maxUnavailable, this.unavailable());
  }
}

describe('ClusterTracker against a brute-force recomputation', () => {
  it('agrees on every count after every step, and on the integrals and maxima', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 60 }), (ops) => {
        const sim = new Simulation({ seed: 7 });
        const layout = makeLayout({ partitions: P, 'partitions.per.topic': 2, brokers: B, 'replication.factor': RF });
        const nodes: SimNode[] = [];
        for (let b = 0; b < B; b++) nodes.push(sim.addNode(`broker-${b}`, () => ({ onMessage() {} })));
        const tracker = new ClusterTracker(sim, layout, nodes, { settleMs: 1000 });
        const model = reportThrough(sim, tracker, nodes);
        const ref = new Reference(layout.replicas);
        let atUs = 0;
        let lastUs = 0;
        const failures: string[] = [];
        const check = (i: number): void => {
          const at = `step ${i} (${JSON.stringify(ops[i])})`;
          for (let b = 0; b < B; b++) {
            if (tracker.brokerDivergence(b) !== ref.divergence(b)) failures.push(`${at}: divergence of ${b}: ${tracker.brokerDivergence(b)} vs ${ref.divergence(b)}`);
            if (tracker.brokerPhantoms(b) !== ref.phantoms(b)) failures.push(`${at}: phantoms of ${b}`);
            for (let p = 0; p < P; p++) if (tracker.statusOf(b, p) !== ref.status(b, p)) failures.push(`${at}: status of ${b}/${p}: ${tracker.statusOf(b, p)} vs ${ref.status(b, p)}`);
          }
          if (tracker.totalDivergence !== ref.total()) failures.push(`${at}: total ${tracker.totalDivergence} vs ${ref.total()}`);
          if (tracker.unavailable !== ref.unavailable()) failures.push(`${at}: unavailable ${tracker.unavailable} vs ${ref.unavailable()}`);
          let dual = 0;
          for (let p = 0; p < P; p++) {
            if (tracker.isAvailable(p) !== ref.available(p)) failures.push(`${at}: availability of ${p}`);
            if (tracker.selfBelievedLeaders(p) !== ref.selfLeaders(p)) failures.push(`${at}: self-believed leaders of ${p}`);
            if (ref.selfLeaders(p) >= 2) dual++;
          }
          if (tracker.dualLeaderPartitions !== dual) failures.push(`${at}: dual leaders`);
        };
        ops.forEach((o, i) => {
          if (o.t === 'wait') {
            atUs += o.ms * 1000;
            return;
          }
          sim.at(atUs, () => {
            // the reference integrates the state that held since the previous step
            if (sim.nowUs > lastUs) ref.elapse((sim.nowUs - lastUs) / 1000);
            lastUs = sim.nowUs;
            switch (o.t) {
              case 'commit':
                model.commit(o.p, o.s.l, o.s.le, 0, o.s.isr);
                ref.truth[o.p] = { ...o.s };
                ref.committed[o.p]!.add(key(o.s));
                break;
              case 'apply':
              case 'applyTruth':
              case 'applyAgain': {
                const before = ref.cache[o.b]![o.p]!;
                // applyAgain: the broker re-applies what it holds (a retried request)
                const s = o.t === 'apply' ? o.s : o.t === 'applyTruth' ? { ...ref.truth[o.p]! } : before === null ? { ...ref.truth[o.p]! } : { ...before };
                model.brokerApply(o.b, o.p, s.l, s.le, 0, s.isr);
                ref.cache[o.b]![o.p] = { ...s };
                if ((before === null || key(before) !== key(s)) && ref.status(o.b, o.p) === PHANTOM) ref.phantomApplies++;
                break;
              }
              case 'crash':
                sim.crash(nodes[o.b]!);
                ref.live[o.b] = false;
                break;
              case 'restart':
                sim.restart(nodes[o.b]!);
                ref.live[o.b] = nodes[o.b]!.up && !nodes[o.b]!.paused;
                break;
              case 'pause':
                sim.pause(nodes[o.b]!);
                ref.live[o.b] = nodes[o.b]!.up && !nodes[o.b]!.paused;
                break;
              case 'resume':
                sim.resume(nodes[o.b]!);
                ref.live[o.b] = nodes[o.b]!.up && !nodes[o.b]!.paused;
                break;
              case 'reset':
                model.brokerCacheReset(o.b);
                ref.cache[o.b] = ref.cache[o.b]!.map(() => null);
                break;
              case 'serving':
                model.setBrokerServing(o.b, o.v);
                ref.serving[o.b] = o.v;
                break;
            }
            check(i);
          });
        });
        sim.run({ untilUs: Number.MAX_SAFE_INTEGER });
        expect(failures.slice(0, 5)).toEqual([]);
        ref.sample();
        const m = tracker.metrics();
        expect(m.unavailablePartitionMs).toBeCloseTo(ref.unavailableMs, 6);
        expect(m.divergence.partitionMs).toBeCloseTo(ref.divergenceMs, 6);
        expect(m.divergence.maxPartitions).toBe(ref.maxBrokerDivergence);
        expect(m.maxUnavailablePartitions).toBe(ref.maxUnavailable);
        expect(m.divergence.phantomStates).toBe(ref.phantomApplies);
        // no main fault in these histories: the fault-relative figures do not apply
        expect(m.recoveryMs).toBeNull();
        expect(m.divergence.convergedAtMs).toBeNull();
        return true;
      }),
      { numRuns: 600 },
    );
  });
});
