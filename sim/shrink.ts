/**
 * `sim shrink`: cuts a violating run's fault schedule down while the same invariant still fails.
 *
 * A candidate is a (fault plan, parameter overrides) pair. Every candidate is derived from the
 * current smallest one as a new immutable value with immer's `produce`, so a rejected candidate
 * leaves nothing behind and the accepted chain is a sequence of values, not a mutated plan.
 *
 * Passes, repeated until a round takes nothing away or the run budget is spent:
 *  1. drop faults: delta debugging over the plan's faults (a start step with its heal/restart/resume
 *     step, a lone step such as a clock jump, a trigger), biggest chunks first;
 *  2. fewer nodes in partitions: take nodes out of a partition's sides while it still cuts something;
 *  3. shorten faults: move each fault's end step halfway to its start, again and again;
 *  4. move faults later: shift a fault (start and end together) halfway towards the original
 *     run's violation time, never past it;
 *  5. smaller cluster: halve `partitions`, take away brokers, controllers, ZooKeeper servers, while
 *     the scenario has such a parameter and the run still fails.
 * A candidate counts only when the same invariant fails; an impossible one (a step naming a broker
 * that no longer exists, parameters that do not fit together) counts as not failing.
 */
import { produce } from 'immer';
import { Simulation, withDeterminismGuard, type FaultAction, type FaultPlan, type FaultStep, type NodeRef, type PartitionSpec } from '../core/index.ts';
import { UsageError } from './errors.ts';
import { defaults, type ParamValue } from './params.ts';
import type { RunResult } from './result.ts';
import { runOnce, type RunRequest } from './run.ts';

/** Runs one shrink may spend (each is a full simulation run) unless --max-runs says otherwise. */
export const DEFAULT_MAX_SHRINK_RUNS = 400;

/** Halvings tried per fault in the shorten and move-later passes before moving on to the next fault. */
const MAX_HALVINGS = 6;

export interface ShrinkCandidate {
  readonly plan: FaultPlan;
  readonly overrides: Readonly<Record<string, ParamValue>>;
}

/** How big a candidate is: what the report shows before → after. */
export interface PlanSize {
  /** Faults: a start step with its end step, a lone step, or a trigger. */
  readonly faults: number;
  readonly steps: number;
  readonly triggers: number;
  /** Sum over faults with an end step of end − start, ms. */
  readonly faultMs: number;
}

export interface ShrinkProgress {
  readonly runs: number;
  readonly maxRuns: number;
  readonly size: PlanSize;
  /** What the accepted candidate changed, or null for a rejected one. */
  readonly accepted: string | null;
  readonly overrides: Readonly<Record<string, ParamValue>>;
}

export interface ShrinkOptions {
  readonly maxRuns?: number;
  readonly onProgress?: (p: ShrinkProgress) => void;
  /** Runs one candidate; runOnce by default (tests may count or wrap it). */
  readonly run?: (req: RunRequest) => RunResult;
}

export interface ShrinkOutcome {
  readonly invariant: string;
  readonly before: { readonly candidate: ShrinkCandidate; readonly size: PlanSize; readonly result: RunResult };
  readonly after: { readonly candidate: ShrinkCandidate; readonly size: PlanSize; readonly result: RunResult };
  readonly runs: number;
  /** True when the budget ran out before a round found nothing more to take away. */
  readonly budgetSpent: boolean;
}

/** One fault of a plan: indices into plan.steps (start, optional end), or a trigger index. */
interface Fault {
  readonly start: number;
  readonly end: number | null;
  readonly trigger: number | null;
}

/** The step that ends the fault a step starts, or null when the step stands alone. */
function endsIt(start: FaultAction, end: FaultAction): boolean {
  switch (start.type) {
    case 'partition':
      return end.type === 'heal';
    case 'crash':
      return end.type === 'restart' && end.node === start.node;
    case 'pause':
      return end.type === 'resume' && end.node === start.node;
    case 'link-fault':
      return end.type === 'clear-link-faults';
    case 'clog':
      return end.type === 'unclog' && end.from === start.from && end.to === start.to;
    case 'clock-rate':
      return start.rate !== 1 && end.type === 'clock-rate' && end.node === start.node && end.rate === 1;
    default:
      return false;
  }
}

/**
 * Groups a plan's steps into faults. A start step takes the step right after it when that ends it
 * (the order swarmPlan writes), else the earliest unused step at or after its time that ends it.
 */
export function faultsOf(plan: FaultPlan): Fault[] {
  const steps = plan.steps;
  const used = new Uint8Array(steps.length);
  const out: Fault[] = [];
  for (let i = 0; i < steps.length; i++) {
    if (used[i] === 1) continue;
    used[i] = 1;
    const s = steps[i]!;
    let end = -1;
    const next = steps[i + 1];
    if (next !== undefined && used[i + 1] === 0 && next.atMs >= s.atMs && endsIt(s.action, next.action)) end = i + 1;
    else {
      for (let j = 0; j < steps.length; j++) {
        const c = steps[j]!;
        if (used[j] === 1 || c.atMs < s.atMs || !endsIt(s.action, c.action)) continue;
        if (end < 0 || c.atMs < steps[end]!.atMs) end = j;
      }
    }
    if (end >= 0) used[end] = 1;
    out.push({ start: i, end: end >= 0 ? end : null, trigger: null });
  }
  for (let t = 0; t < (plan.triggers ?? []).length; t++) out.push({ start: -1, end: null, trigger: t });
  return out;
}

export function planSize(plan: FaultPlan): PlanSize {
  const faults = faultsOf(plan);
  let faultMs = 0;
  for (const f of faults) if (f.end !== null) faultMs += plan.steps[f.end]!.atMs - plan.steps[f.start]!.atMs;
  return { faults: faults.length, steps: plan.steps.length, triggers: (plan.triggers ?? []).length, faultMs };
}

/** A new candidate without the given faults. */
export function dropFaults(c: ShrinkCandidate, drop: readonly Fault[]): ShrinkCandidate {
  const steps = new Set<number>();
  const triggers = new Set<number>();
  for (const f of drop) {
    if (f.trigger !== null) triggers.add(f.trigger);
    else {
      steps.add(f.start);
      if (f.end !== null) steps.add(f.end);
    }
  }
  return produce(c, (d) => {
    d.plan.steps = d.plan.steps.filter((_, i) => !steps.has(i));
    if (d.plan.triggers !== undefined) d.plan.triggers = d.plan.triggers.filter((_, i) => !triggers.has(i));
  });
}

/** A new candidate whose steps at the given indices run at the given times. */
function retime(c: ShrinkCandidate, times: readonly (readonly [number, number])[]): ShrinkCandidate {
  return produce(c, (d) => {
    for (const [i, atMs] of times) d.plan.steps[i]!.atMs = atMs;
  });
}

/** Every node a partition shape names. */
export function shapeNodes(s: PartitionSpec): NodeRef[] {
  switch (s.type) {
    case 'symmetric':
      return [...s.a, ...s.b];
    case 'one-way':
      return [...s.from, ...s.to];
    case 'isolate':
      return [s.node];
    case 'bridge':
      return [...s.a, s.bridge, ...s.b];
    case 'majorities-ring':
      return [...s.nodes];
    case 'groups':
      return s.groups.flat();
  }
}

/** A shape that still cuts something: no empty side, a ring of at least 3, at least 2 groups. */
function shapeCuts(s: PartitionSpec): boolean {
  switch (s.type) {
    case 'symmetric':
      return s.a.length > 0 && s.b.length > 0;
    case 'one-way':
      return s.from.length > 0 && s.to.length > 0;
    case 'isolate':
      return true;
    case 'bridge':
      return s.a.length > 0 && s.b.length > 0;
    case 'majorities-ring':
      return s.nodes.length >= 3;
    case 'groups':
      return s.groups.length >= 2 && s.groups.every((g) => g.length > 0);
  }
}

/** A new candidate whose partition step `i` no longer names `node`, or null when the shape would cut nothing. */
export function dropNodeFromPartition(c: ShrinkCandidate, i: number, node: NodeRef): ShrinkCandidate | null {
  const before = c.plan.steps[i]?.action;
  if (before?.type !== 'partition' || before.shape.type === 'isolate' || !shapeNodes(before.shape).includes(node)) return null;
  const next = produce(c, (d) => {
    const a = d.plan.steps[i]!.action;
    if (a.type !== 'partition') return;
    const s = a.shape;
    const keep = (n: NodeRef): boolean => n !== node;
    switch (s.type) {
      case 'symmetric':
        s.a = s.a.filter(keep);
        s.b = s.b.filter(keep);
        break;
      case 'one-way':
        s.from = s.from.filter(keep);
        s.to = s.to.filter(keep);
        break;
      case 'bridge':
        s.a = s.a.filter(keep);
        s.b = s.b.filter(keep);
        break;
      case 'majorities-ring':
        s.nodes = s.nodes.filter(keep);
        break;
      case 'groups':
        s.groups = s.groups.map((g) => g.filter(keep));
        break;
      case 'isolate':
        break;
    }
  });
  const a = next.plan.steps[i]!.action;
  if (a.type !== 'partition' || !shapeCuts(a.shape)) return null;
  return next;
}

function setParam(c: ShrinkCandidate, key: string, value: ParamValue): ShrinkCandidate {
  return produce(c, (d) => {
    d.overrides[key] = value;
  });
}

/** Cluster-size parameters a shrink may lower, with the next smaller value to try (null: none). */
const SMALLER: readonly { readonly key: string; readonly next: (v: number, min: number) => number | null }[] = [
  { key: 'partitions', next: (v, min) => (Math.floor(v / 2) >= Math.max(1, min) ? Math.floor(v / 2) : null) },
  { key: 'brokers', next: (v, min) => (v - 1 >= Math.max(1, min) ? v - 1 : null) },
  // Quorums stay odd and able to lose a member: 5 → 3, never 1 (a one-voter quorum tolerates no
  // fault, and its leader has no peers whose contact the quorum invariants could observe).
  { key: 'kraft.controllers', next: (v, min) => (v - 2 >= Math.max(3, min) ? v - 2 : null) },
  { key: 'zk.servers', next: (v, min) => (v - 2 >= Math.max(3, min) ? v - 2 : null) },
];

/** The plan the scenario's build() makes for this request (built once, outside any run). */
export function builtPlan(req: RunRequest): FaultPlan {
  const params = { ...defaults(req.scenario.params), ...req.overrides };
  const sim = new Simulation({ seed: `${req.seed}` });
  try {
    return withDeterminismGuard(() => req.scenario.build({ sim, params, mode: req.mode, seed: req.seed }).plan);
  } catch (e) {
    if (e instanceof UsageError) throw new UsageError(`${req.file}: ${e.message}`);
    throw new UsageError(`${req.file}: build() failed: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function describeFault(plan: FaultPlan, f: Fault): string {
  if (f.trigger !== null) return `trigger on ${plan.triggers![f.trigger]!.when.kind}`;
  const s = plan.steps[f.start]!;
  return `${s.action.type} at ${s.atMs} ms`;
}

/**
 * Shrinks the run `base` (scenario, seed, mode, overrides), which must violate a property. Throws a
 * UsageError when it does not.
 */
export function shrink(base: RunRequest, opts: ShrinkOptions = {}): ShrinkOutcome {
  const maxRuns = opts.maxRuns ?? DEFAULT_MAX_SHRINK_RUNS;
  const run = opts.run ?? runOnce;
  const start: ShrinkCandidate = { plan: builtPlan(base), overrides: { ...base.overrides } };
  const request = (c: ShrinkCandidate): RunRequest => {
    const { traceFile: _t, onProgress: _p, planOverride: _o, ...rest } = base;
    return { ...rest, overrides: c.overrides, planOverride: c.plan };
  };
  const first = run(request(start));
  let runs = 1;
  if (first.violation === null) {
    throw new UsageError(`${base.file} seed ${base.seed}${base.mode !== null ? ` (${base.mode})` : ''} violates no property: nothing to shrink`);
  }
  const invariant = first.violation.invariant;
  const firstViolationMs = first.violation.atMs;
  let cur = start;
  let curResult = first;
  let budgetSpent = false;
  const report = (accepted: string | null): void => opts.onProgress?.({ runs, maxRuns, size: planSize(cur.plan), accepted, overrides: cur.overrides });
  report('the original run');

  /** Runs a candidate; keeps it when the same invariant fails. */
  const tryIt = (c: ShrinkCandidate, what: string): boolean => {
    if (runs >= maxRuns) {
      budgetSpent = true;
      return false;
    }
    runs++;
    let r: RunResult;
    try {
      r = run(request(c));
    } catch {
      // An impossible candidate (a removed node named by a step, parameters that do not fit): not a failure.
      report(null);
      return false;
    }
    if (r.violation === null || r.violation.invariant !== invariant) {
      report(null);
      return false;
    }
    cur = c;
    curResult = r;
    report(what);
    return true;
  };

  const dropPass = (): boolean => {
    let changed = false;
    let n = 1;
    for (;;) {
      const faults = faultsOf(cur.plan);
      if (faults.length === 0 || budgetSpent) return changed;
      n = Math.min(n, faults.length);
      const chunk = Math.ceil(faults.length / n);
      let found = false;
      for (let i = 0; i < faults.length && !found; i += chunk) {
        const part = faults.slice(i, i + chunk);
        const what = part.length === 1 ? `dropped ${describeFault(cur.plan, part[0]!)}` : `dropped ${part.length} faults`;
        if (tryIt(dropFaults(cur, part), what)) found = true;
      }
      if (found) {
        changed = true;
        n = Math.max(n - 1, 1);
        continue;
      }
      if (chunk === 1 || budgetSpent) return changed;
      n = Math.min(n * 2, faults.length);
    }
  };

  const shortenPass = (): boolean => {
    let changed = false;
    for (let k = 0; k < faultsOf(cur.plan).length && !budgetSpent; k++) {
      for (let h = 0; h < MAX_HALVINGS; h++) {
        const f = faultsOf(cur.plan)[k];
        if (f === undefined || f.end === null) break;
        const s = cur.plan.steps[f.start]!.atMs;
        const e = cur.plan.steps[f.end]!.atMs;
        const shorter = s + Math.floor((e - s) / 2);
        if (shorter <= s || shorter >= e) break;
        if (!tryIt(retime(cur, [[f.end, shorter]]), `shortened ${describeFault(cur.plan, f)} to ${shorter - s} ms`)) break;
        changed = true;
      }
    }
    return changed;
  };

  const laterPass = (): boolean => {
    let changed = false;
    for (let k = 0; k < faultsOf(cur.plan).length && !budgetSpent; k++) {
      for (let h = 0; h < MAX_HALVINGS; h++) {
        const f = faultsOf(cur.plan)[k];
        if (f === undefined || f.trigger !== null) break;
        const s = cur.plan.steps[f.start]!;
        const last = f.end !== null ? cur.plan.steps[f.end]!.atMs : s.atMs;
        // Towards the original run's violation, never past it: the moves converge, and a fault
        // cannot chase a violation that its own move made later.
        const shift = Math.floor((firstViolationMs - last) / 2);
        if (s.action.type === 'heal-all' || shift < 1) break;
        const times: [number, number][] = [[f.start, s.atMs + shift]];
        if (f.end !== null) times.push([f.end, last + shift]);
        if (!tryIt(retime(cur, times), `moved ${describeFault(cur.plan, f)} ${shift} ms later`)) break;
        changed = true;
      }
    }
    return changed;
  };

  const nodesPass = (): boolean => {
    let changed = false;
    for (let i = 0; i < cur.plan.steps.length && !budgetSpent; i++) {
      const a = cur.plan.steps[i]!.action;
      if (a.type !== 'partition') continue;
      for (const node of shapeNodes(a.shape)) {
        const c = dropNodeFromPartition(cur, i, node);
        if (c !== null && tryIt(c, `took ${node} out of the partition at ${cur.plan.steps[i]!.atMs} ms`)) changed = true;
        if (budgetSpent) break;
      }
    }
    return changed;
  };

  const paramPass = (): boolean => {
    let changed = false;
    for (const { key, next } of SMALLER) {
      const spec = base.scenario.params[key];
      if (spec === undefined) continue;
      for (;;) {
        if (budgetSpent) return changed;
        const v = cur.overrides[key] ?? spec.default;
        if (typeof v !== 'number') break;
        const smaller = next(v, spec.min ?? 1);
        if (smaller === null || !tryIt(setParam(cur, key, smaller), `${key} ${v} → ${smaller}`)) break;
        changed = true;
      }
    }
    return changed;
  };

  // Another round only when something was taken away: moving a fault later makes nothing smaller.
  for (;;) {
    let changed = dropPass();
    changed = nodesPass() || changed;
    changed = shortenPass() || changed;
    laterPass();
    changed = paramPass() || changed;
    if (!changed || budgetSpent) break;
  }
  return {
    invariant,
    before: { candidate: start, size: planSize(start.plan), result: first },
    after: { candidate: cur, size: planSize(cur.plan), result: curResult },
    runs,
    budgetSpent,
  };
}

/** One line per step and trigger, in time order, for people. */
export function formatPlan(plan: FaultPlan): string[] {
  const steps: FaultStep[] = [...plan.steps].sort((a, b) => a.atMs - b.atMs);
  const lines = steps.map((s) => `${String(s.atMs).padStart(9)} ms  ${JSON.stringify(s.action)}${s.main === true ? '  (main)' : ''}`);
  for (const t of plan.triggers ?? []) lines.push(`  on ${JSON.stringify(t.when)}${t.afterMs !== undefined ? ` + ${t.afterMs} ms` : ''}  ${JSON.stringify(t.action)}`);
  return lines;
}
