import type { Simulation } from './sim.ts';

/** A check returns null when the property holds, or one sentence saying how it is broken. */
export type Check = () => string | null;

export interface Violation {
  readonly invariant: string;
  readonly kind: 'safety' | 'liveness';
  readonly atUs: number;
  readonly atMs: number;
  readonly detail: string;
  /** The trace record after which the violation was seen (index into the trace, its fields). */
  readonly event: { readonly index: number; readonly kind: string; readonly node: string | null; readonly label: string };
  /** The command that replays the run up to the violation. */
  readonly replay: string;
}

export interface PropertyResult {
  readonly name: string;
  readonly kind: 'safety' | 'liveness';
  readonly checks: number;
  readonly violations: number;
}

interface Safety {
  readonly name: string;
  readonly check: Check;
  checks: number;
  violations: number;
  dirty: boolean;
}

interface Liveness {
  readonly name: string;
  readonly withinUs: number;
  readonly pollUs: number;
  readonly check: Check;
  checks: number;
  violations: number;
  deadlineUs: number;
  satisfiedAtUs: number;
  /** Bumped whenever the window restarts, so stale polls stop. */
  gen: number;
}

/**
 * Safety invariants, checked after every event that may affect them (they name the trace labels
 * or kinds that wake them; with none they run after every event), and liveness properties
 * ("within T after the last fault heals, …"). The first violation stops the run.
 */
export class Properties {
  private readonly safeties: Safety[] = [];
  private readonly always: Safety[] = [];
  private readonly watch = new Map<string, Safety[]>();
  private readonly dirtyList: Safety[] = [];
  private readonly lives: Liveness[] = [];
  violation: Violation | null = null;
  replayCommand = '';
  /** Virtual time from which liveness windows run (the last fault action); -1 until armed. */
  quietSinceUs = -1;

  constructor(private readonly sim: Simulation) {}

  get hasWatches(): boolean {
    return this.watch.size > 0;
  }

  get dirtyCount(): number {
    return this.dirtyList.length + this.always.length;
  }

  safety(name: string, check: Check, opts: { on?: readonly string[] } = {}): void {
    const s: Safety = { name, check, checks: 0, violations: 0, dirty: false };
    this.safeties.push(s);
    if (opts.on === undefined || opts.on.length === 0) {
      this.always.push(s);
      return;
    }
    for (const label of opts.on) {
      let list = this.watch.get(label);
      if (list === undefined) this.watch.set(label, (list = []));
      list.push(s);
    }
  }

  liveness(name: string, withinUs: number, check: Check, opts: { pollUs?: number } = {}): void {
    const l: Liveness = { name, withinUs, pollUs: opts.pollUs ?? 10_000, check, checks: 0, violations: 0, deadlineUs: -1, satisfiedAtUs: -1, gen: 0 };
    this.lives.push(l);
    if (this.quietSinceUs >= 0) this.armOne(l);
  }

  /** Marks invariants watching this kind or label as due for a check after the current event. */
  onRecord(kind: string, label: string): void {
    const a = this.watch.get(label);
    if (a !== undefined) for (const s of a) if (!s.dirty) { s.dirty = true; this.dirtyList.push(s); }
    const b = this.watch.get(kind);
    if (b !== undefined) for (const s of b) if (!s.dirty) { s.dirty = true; this.dirtyList.push(s); }
  }

  /** Runs the safety checks that are due. Called by the scheduler after each event. */
  afterEvent(): void {
    for (const s of this.always) this.runSafety(s);
    while (this.dirtyList.length > 0) {
      const s = this.dirtyList.pop()!;
      s.dirty = false;
      this.runSafety(s);
    }
  }

  private runSafety(s: Safety): void {
    if (this.violation !== null) return;
    s.checks++;
    const broken = s.check();
    if (broken !== null) {
      s.violations++;
      this.fail(s.name, 'safety', broken);
    }
  }

  private fail(name: string, kind: 'safety' | 'liveness', detail: string): void {
    const sim = this.sim;
    const t = sim.trace;
    this.violation = {
      invariant: name,
      kind,
      atUs: sim.nowUs,
      atMs: sim.nowUs / 1000,
      detail,
      event: { index: t.count, kind: t.lastKind, node: t.lastNode >= 0 ? (t.nodeNames[t.lastNode] ?? null) : null, label: t.lastLabel },
      replay: this.replayCommand,
    };
    sim.stop(`violation of ${name}`);
  }

  /** Faults have gone quiet at `nowUs` (the last action ran): every liveness window (re)starts. */
  armLiveness(nowUs: number): void {
    this.quietSinceUs = nowUs;
    for (const l of this.lives) this.armOne(l);
  }

  private armOne(l: Liveness): void {
    l.gen++;
    l.satisfiedAtUs = -1;
    l.deadlineUs = this.quietSinceUs + l.withinUs;
    const gen = l.gen;
    const poll = (): void => {
      if (l.gen !== gen || this.violation !== null) return;
      l.checks++;
      const broken = l.check();
      if (broken === null) {
        l.satisfiedAtUs = this.sim.nowUs;
        return;
      }
      if (this.sim.nowUs >= l.deadlineUs) {
        l.violations++;
        this.fail(l.name, 'liveness', `not within ${l.withinUs / 1000} ms of the last fault (at ${this.quietSinceUs / 1000} ms): ${broken}`);
        return;
      }
      this.sim.at(Math.min(this.sim.nowUs + l.pollUs, l.deadlineUs), poll);
    };
    this.sim.at(Math.max(this.sim.nowUs, this.quietSinceUs), poll);
  }

  /** Latest deadline of a liveness property still waiting to be satisfied; -1 when none waits. */
  pendingLivenessDeadlineUs(): number {
    let d = -1;
    for (const l of this.lives) if (l.deadlineUs >= 0 && l.satisfiedAtUs < 0 && l.violations === 0) d = Math.max(d, l.deadlineUs);
    return d;
  }

  /** When each liveness property was satisfied (µs), or -1. */
  livenessSatisfiedAt(name: string): number {
    return this.lives.find((l) => l.name === name)?.satisfiedAtUs ?? -1;
  }

  results(): PropertyResult[] {
    return [
      ...this.safeties.map((s) => ({ name: s.name, kind: 'safety' as const, checks: s.checks, violations: s.violations })),
      ...this.lives.map((l) => ({ name: l.name, kind: 'liveness' as const, checks: l.checks, violations: l.violations })),
    ];
  }
}
