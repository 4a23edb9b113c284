import { describe, expect, it } from 'vitest';
import { isDraft } from 'immer';
import { EMPTY_PLAN, type FaultPlan } from '../../core/index.ts';
import { UsageError } from '../../sim/errors.ts';
import { parseSettings } from '../../sim/params.ts';
import type { Mode } from '../../sim/result.ts';
import { runOnce, type RunRequest } from '../../sim/run.ts';
import { builtPlan, dropFaults, dropNodeFromPartition, faultsOf, planSize, shrink } from '../../sim/shrink.ts';
import swarm from '../../scenarios/swarm.ts';

function request(seed: number, mode: Mode, sets: string[] = []): RunRequest {
  const overrides = parseSettings(sets, swarm.params);
  return { file: 'scenarios/swarm.ts', scenario: swarm, seed, mode, overrides, untilUs: 600_000_000 };
}

describe('the plan-override hook of a run request', () => {
  const req = request(19, 'kraft', ['bugs=KAFKA-15489']);

  it("the plan build() makes, given as an override, runs exactly as without one", () => {
    const plain = runOnce(req);
    const over = runOnce({ ...req, planOverride: JSON.parse(JSON.stringify(builtPlan(req))) as FaultPlan });
    expect(plain.violation?.invariant).toBe('raft.leader-resigns-without-majority');
    expect(over.traceHash).toBe(plain.traceHash);
    expect(over.violation).toEqual(plain.violation === null ? null : { ...plain.violation, replay: over.violation!.replay });
  });

  it('an overriding plan replaces the scenario\'s: without faults the toggle does not fire on this seed', () => {
    const plain = runOnce(req);
    const none = runOnce({ ...req, planOverride: EMPTY_PLAN });
    expect(none.traceHash).not.toBe(plain.traceHash);
    expect(none.violation).toBeNull();
  });

  it('an impossible overriding plan is the input\'s error', () => {
    const bad = { steps: [{ atMs: -1, action: { type: 'heal' } }] } as unknown as FaultPlan;
    expect(() => runOnce({ ...req, planOverride: bad })).toThrow(UsageError);
    expect(() => runOnce({ ...req, planOverride: { steps: [{ atMs: 10, action: { type: 'crash', node: 'broker-99' } }] } })).toThrow(/broker-99/);
  });
});

describe('faults of a plan', () => {
  it('pairs every swarm fault with the step that ends it', () => {
    for (const seed of [1, 7, 19, 42]) {
      const plan = builtPlan(request(seed, 'zk'));
      const faults = faultsOf(plan);
      const covered = faults.flatMap((f) => (f.end === null ? [f.start] : [f.start, f.end])).sort((a, b) => a - b);
      expect(covered).toEqual(plan.steps.map((_, i) => i));
      for (const f of faults) {
        const s = plan.steps[f.start]!.action.type;
        if (['crash', 'pause', 'partition', 'clog', 'link-fault'].includes(s)) expect(f.end, `${seed}: ${s}`).not.toBeNull();
        if (f.end !== null) expect(plan.steps[f.end]!.atMs).toBeGreaterThanOrEqual(plan.steps[f.start]!.atMs);
      }
      expect(planSize(plan).faults).toBe(faults.length);
    }
  });

  it('dropping a fault makes a new plan and leaves its parent as it was', () => {
    const plan = builtPlan(request(19, 'kraft'));
    const before = JSON.stringify(plan);
    const parent = { plan, overrides: {} };
    const faults = faultsOf(plan);
    const child = dropFaults(parent, [faults[0]!]);
    expect(JSON.stringify(plan)).toBe(before);
    expect(isDraft(child)).toBe(false);
    expect(child.plan.steps.length).toBe(plan.steps.length - (faults[0]!.end === null ? 1 : 2));
    expect(Object.isFrozen(child.plan.steps)).toBe(true);
  });
});

describe('sim shrink on the bug toggles', () => {
  const cases: [string, number, Mode, string][] = [
    ['KAFKA-15489', 19, 'kraft', 'raft.leader-resigns-without-majority'],
    ['zk.elect-outside-isr', 7, 'zk', 'zk.leader-in-isr'],
  ];
  for (const [bug, seed, mode, invariant] of cases) {
    it(`${bug}: swarm seed ${seed} (${mode}) shrinks to a smaller plan that still fails ${invariant}`, { timeout: 300_000 }, () => {
      const req = request(seed, mode, [`bugs=${bug}`]);
      const out = shrink(req);
      expect(out.invariant).toBe(invariant);
      expect(out.after.size.faults).toBeLessThan(out.before.size.faults);
      expect(out.after.size.steps).toBeLessThan(out.before.size.steps);
      expect(out.after.size.faultMs).toBeLessThan(out.before.size.faultMs);
      expect(out.runs).toBeLessThanOrEqual(400);
      // The minimal plan and parameters fail again on their own, with the recorded hash.
      const again = runOnce({ ...req, overrides: out.after.candidate.overrides, planOverride: out.after.candidate.plan });
      expect(again.violation?.invariant).toBe(invariant);
      expect(again.traceHash).toBe(out.after.result.traceHash);
    });
  }

  it('stops at the run budget', () => {
    const out = shrink(request(19, 'kraft', ['bugs=KAFKA-15489']), { maxRuns: 3 });
    expect(out.runs).toBe(3);
    expect(out.budgetSpent).toBe(true);
    expect(out.after.result.violation?.invariant).toBe('raft.leader-resigns-without-majority');
  });

  it('a run that violates nothing is bad input', () => {
    expect(() => shrink(request(19, 'kraft'))).toThrow(/violates no property/);
  });
});

describe('fewer nodes in a partition', () => {
  it('takes one node out of a side, as a new value, and refuses to empty a side', () => {
    const parent = {
      plan: { steps: [{ atMs: 10, action: { type: 'partition' as const, shape: { type: 'symmetric' as const, a: ['n0', 'n1'], b: ['n2'] } } }] },
      overrides: {},
    };
    const child = dropNodeFromPartition(parent, 0, 'n1');
    expect(child?.plan.steps[0]!.action).toEqual({ type: 'partition', shape: { type: 'symmetric', a: ['n0'], b: ['n2'] } });
    expect(parent.plan.steps[0]!.action.shape.a).toEqual(['n0', 'n1']);
    expect(dropNodeFromPartition(parent, 0, 'n2')).toBeNull();
    expect(dropNodeFromPartition(parent, 0, 'n9')).toBeNull();
  });
});
