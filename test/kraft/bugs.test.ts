import { describe, expect, it } from 'vitest';
import type { FaultPlan } from '../../core/index.ts';
import type { ParamValue } from '../../sim/params.ts';
import { kraft } from './harness.ts';

interface Case {
  bug: string;
  invariant: string;
  plan: FaultPlan;
  untilMs: number;
  set?: Record<string, ParamValue>;
  safety?: boolean | readonly string[];
}

const crashActive: FaultPlan = { steps: [{ atMs: 5000, action: { type: 'crash', node: '@activeController' }, main: true }] };

const CASES: Case[] = [
  {
    bug: 'KAFKA-15489',
    invariant: 'raft.leader-resigns-without-majority',
    plan: { steps: [{ atMs: 3000, action: { type: 'partition', shape: { type: 'isolate', node: '@raftLeader' } }, main: true }] },
    untilMs: 20_000,
  },
  {
    // Without check-quorum the old active controller, cut off from the other voters (not from
    // the brokers), never steps down: two active controllers for good.
    bug: 'KAFKA-15489',
    invariant: 'kraft.one-active-controller-and-brokers-converged',
    plan: {
      steps: [
        { atMs: 3000, action: { type: 'partition', shape: { type: 'symmetric', a: ['controller-0'], b: ['controller-1', 'controller-2'] } }, main: true },
        // A harmless last action: the liveness window starts here, with the split in place.
        { atMs: 10_000, action: { type: 'clear-link-faults' } },
      ],
    },
    untilMs: 40_000,
    set: { 'kraft.liveness.ms': 15_000 },
    safety: false,
  },
  {
    // controller-2 loses the leader for 500 ms (missing records controller-0 and -1 commit), then
    // the leader dies: the new leader's first HW, from controller-2's fetch offset, would be lower.
    bug: 'hw-before-own-epoch',
    invariant: 'raft.monotonic-high-watermark',
    plan: {
      steps: [
        { atMs: 3000, action: { type: 'partition', shape: { type: 'symmetric', a: ['controller-0'], b: ['controller-2'] } } },
        { atMs: 3500, action: { type: 'crash', node: 'controller-0' }, main: true },
        { atMs: 3500, action: { type: 'heal' } },
      ],
    },
    untilMs: 30_000,
  },
  {
    bug: 'vote-without-log-check',
    invariant: 'raft.committed-data-consistent',
    plan: { steps: [{ atMs: 3000, action: { type: 'partition', shape: { type: 'isolate', node: 'controller-2' } } }, { atMs: 9000, action: { type: 'heal' } }] },
    untilMs: 30_000,
  },
  { bug: 'broker-applies-beyond-hw', invariant: 'kraft.broker-applies-only-committed', plan: { steps: [] }, untilMs: 10_000 },
  {
    bug: 'quorum-state-not-fsynced',
    invariant: 'raft.monotonic-epoch',
    plan: {
      steps: crashActive.steps,
      triggers: ['controller-1', 'controller-2'].flatMap((n) => [
        { when: { kind: 'send', label: 'VoteResponse', node: n, fromMs: 5000 }, action: { type: 'crash' as const, node: n } },
        { when: { kind: 'send', label: 'VoteResponse', node: n, fromMs: 5000 }, afterMs: 300, action: { type: 'restart' as const, node: n } },
      ]),
    },
    untilMs: 30_000,
  },
  {
    bug: 'ack-before-flush',
    invariant: 'raft.majority-reached-high-watermark',
    // Power loss of two voters 75 ms after the NoOp of 5,000 ms was appended, while its 200 ms fsyncs run.
    plan: {
      steps: [
        { atMs: 5100, action: { type: 'crash', node: 'controller-0' }, main: true },
        { atMs: 5100, action: { type: 'crash', node: 'controller-1' } },
        { atMs: 6000, action: { type: 'restart', node: 'controller-0' } },
        { atMs: 6000, action: { type: 'restart', node: 'controller-1' } },
      ],
    },
    untilMs: 20_000,
    set: { 'disk.fsync.us': 200_000 },
  },
  {
    // A cold start with 1 ms election timeouts: candidates run within a round trip of each other,
    // and a voter asked twice in one epoch says yes twice.
    bug: 'vote-twice-per-epoch',
    invariant: 'raft.single-leader-per-epoch',
    plan: { steps: [] },
    untilMs: 10_000,
    set: { 'kraft.cold.start': true, 'controller.quorum.election.timeout.ms': 1 },
  },
  {
    // The same double vote seen one layer up: with leadership announced before the epoch's first
    // commit, both leaders' QuorumControllers activate in the one epoch.
    bug: 'vote-twice-per-epoch,leader-change-before-commit',
    invariant: 'kraft.one-active-controller-per-epoch',
    plan: { steps: [] },
    untilMs: 10_000,
    set: { 'kraft.cold.start': true, 'controller.quorum.election.timeout.ms': 1 },
    safety: ['kraft.one-active-controller-per-epoch'],
  },
  { bug: 'fence-without-leader-move', invariant: 'kraft.fenced-broker-leads-nothing', plan: { steps: [{ atMs: 3000, action: { type: 'crash', node: 'broker-1' }, main: true }] }, untilMs: 30_000 },
];

const SEEDS = 8;

describe('bug toggles trip their invariants', () => {
  for (const c of CASES) {
    it(`${c.bug} trips ${c.invariant} within seeds 1..${SEEDS}, and the same runs hold without it`, () => {
      let tripped = -1;
      for (let seed = 1; seed <= SEEDS && tripped < 0; seed++) {
        const run = kraft(seed, { ...c.set, bugs: c.bug }, { safety: c.safety ?? true });
        run.run(c.untilMs, c.plan);
        const v = run.sim.props.violation;
        if (v !== null) {
          expect(v.invariant, `seed ${seed}: ${v.detail}`).toBe(c.invariant);
          tripped = seed;
        }
      }
      expect(tripped, `${c.bug} never tripped ${c.invariant}`).toBeGreaterThan(0);
      for (let seed = 1; seed <= tripped; seed++) {
        const ok = kraft(seed, { ...c.set }, { safety: c.safety ?? true });
        ok.run(c.untilMs, c.plan);
        expect(ok.sim.props.violation?.detail ?? null, `seed ${seed} without the bug`).toBeNull();
      }
    });
  }
});
