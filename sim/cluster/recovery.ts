import type { Metrics } from '../result.ts';

export type Milestone = 'detect' | 'elect' | 'load';

/** The name of the property that catches a recovered verdict followed by an outage with no new fault. */
export const RECOVERY_HOLDS = 'cluster.recovery-holds';

/**
 * What RecoveryWatch needs from its simulation: a Simulation, or `sim report`'s replay of a trace
 * (which schedules nothing: its verdicts come from the trace's own verdict records).
 */
export interface RecoveryHost {
  readonly nowUs: number;
  at(atUs: number, fn: () => void): number;
  cancel(handle: number): void;
  stop(reason: string): void;
  readonly trace: { record(atUs: number, kind: string, node: number, peer: number, label: string, value: number, detail?: string): void };
  readonly faults: { readonly mainFaultAtUs: number; readonly lastActionAtUs: number; readonly stepsRemaining: number };
}

/**
 * Health over time and the run's end: when the cluster last became healthy, when total divergence
 * last reached zero, the recovery milestones the models report, the verdict and the auto-stop.
 *
 * The verdict: once every timed fault step has run and the cluster has been healthy for settle.ms
 * since both its last transition to healthy and the last fault action, a run with a main fault is
 * declared "recovered" (a `verdict.recovered` trace record); a run without one just stops. The run then goes on for probation.ms, during
 * which the property `cluster.recovery-holds` watches it: an outage — no single ready controller,
 * or a partition unavailable — with no fault action since the verdict is a violation (the verdict
 * was premature: something still pending — a controller loading, requests queued — undid it).
 * Divergence alone (brokers briefly behind a committed change, e.g. an ISR change a lagging
 * follower caused) withdraws the verdict — recovery is the last transition to healthy — but is
 * ordinary propagation, not an outage, unless an outage follows before health returns. A fault action after the verdict voids it. At
 * the end of the probation, sim.stop('recovered and settled'). The checks are scheduled on
 * transitions (and, while fault steps remain, every settle.ms), never per event.
 */
/** How often a verdict held back by RecoveryWatch.quiet looks again (simulated µs). */
const QUIET_POLL_US = 100_000;

export class RecoveryWatch {
  healthy = false;
  private healthySinceUs = -1;
  private gen = 0;
  private handle = -1;
  private prevDivergence = 0;
  private lastConvergedUs = -1;
  private readonly milestoneUs = { detect: -1, elect: -1, load: -1 };
  /** When the current verdict was given (µs), or -1. */
  private verdictUs = -1;
  /** A verdict whose health was since lost to divergence alone, still unhealthy (µs), or -1. */
  private unsettledVerdictUs = -1;
  /** The first outage after a verdict with no fault in between: one sentence, or null. */
  private outage: string | null = null;
  /** A loss of health after a verdict, to be judged once its event is over (was a fault action part of it?). */
  private lost: { verdictUs: number; atUs: number; sinceUs: number; what: string } | null = null;
  /**
   * A mode's check that nothing a fault set in motion is still pending although the cluster is
   * healthy (KRaft: a voter still campaigning at an epoch of its own); the verdict waits for it.
   */
  quiet: () => boolean = () => true;

  constructor(
    private readonly sim: RecoveryHost,
    private readonly settleUs: number,
    private readonly probationUs: number,
    /** What the tracker knows about the state that broke health, for the violation's sentence. */
    private readonly describe: () => string,
  ) {}

  /** When the run was declared recovered (µs), or -1. */
  get verdictAtUs(): number {
    return this.verdictUs;
  }

  /**
   * Called after every change of the tracked state. `outage`: health is lost in a way that is not
   * ordinary metadata propagation — no single ready controller, or a partition unavailable.
   */
  update(healthy: boolean, totalDivergence: number, outage: boolean): void {
    const now = this.sim.nowUs;
    if (this.prevDivergence > 0 && totalDivergence === 0) this.lastConvergedUs = now;
    this.prevDivergence = totalDivergence;
    if (!healthy && outage && this.unsettledVerdictUs >= 0) {
      // Since the verdict, health was lost to divergence alone (brokers behind a committed change);
      // now it is an outage.
      this.lostAfter(this.unsettledVerdictUs, now);
      this.unsettledVerdictUs = -1;
    }
    if (healthy === this.healthy) return;
    this.healthy = healthy;
    this.gen++;
    if (healthy) {
      this.unsettledVerdictUs = -1;
      this.healthySinceUs = now;
      this.schedule(now + this.settleUs);
      return;
    }
    if (this.handle >= 0) {
      this.sim.cancel(this.handle);
      this.handle = -1;
    }
    if (this.verdictUs >= 0) {
      if (outage) this.lostAfter(this.verdictUs, now);
      else this.unsettledVerdictUs = this.verdictUs;
      this.verdictUs = -1;
    }
  }

  private lostAfter(verdictUs: number, now: number): void {
    this.lost = { verdictUs, atUs: now, sinceUs: this.healthySinceUs, what: this.describe() };
    this.sim.trace.record(now, 'state', -1, -1, 'verdict.lost', now - verdictUs);
  }

  /**
   * The check of cluster.recovery-holds, run after the event that lost health: a violation unless
   * a fault action ran since the verdict (in that event or before it).
   */
  judge(): string | null {
    const l = this.lost;
    if (l !== null && this.outage === null) {
      this.lost = null;
      if (this.sim.faults.lastActionAtUs <= l.verdictUs) {
        this.outage = `the cluster was declared recovered at ${l.verdictUs / 1000} ms (healthy since ${l.sinceUs / 1000} ms, no fault since) and lost health at ${l.atUs / 1000} ms: ${l.what}`;
      }
    }
    return this.outage;
  }

  /** `sim report`: the verdict the run recorded now ('verdict.recovered'). */
  replayVerdict(): void {
    this.verdictUs = this.sim.nowUs;
  }

  /** `sim report`: the void the run recorded now ('verdict.void'). */
  replayVerdictVoid(): void {
    this.verdictUs = -1;
  }

  /** The first call of each milestone at or after the main fault counts. */
  milestone(name: Milestone): void {
    const fault = this.sim.faults.mainFaultAtUs;
    if (fault < 0 || this.milestoneUs[name] >= 0) return;
    this.milestoneUs[name] = this.sim.nowUs;
    this.sim.trace.record(this.sim.nowUs, 'state', -1, -1, `milestone.${name}`, this.sim.nowUs - fault);
  }

  /**
   * recoveryMs, phases and convergedAtMs (see ClusterTracker for the definitions). The phases chain
   * fault → detect → elect → load → recovered; when no controller changed (neither 'elect' nor
   * 'load' was reported), electMs and loadMs are null and propagateMs runs from 'detect'. A phase
   * whose milestones are missing or out of order is null, and so is propagateMs after it.
   */
  figures(totalDivergence: number): Pick<Metrics, 'recoveryMs' | 'phases'> & { convergedAtMs: number | null; afterFault: string | null } {
    const fault = this.sim.faults.mainFaultAtUs;
    const span = (from: number, to: number): number | null => (from < 0 || to < 0 || to < from ? null : (to - from) / 1000);
    const recoveredUs = fault >= 0 && this.healthy ? Math.max(this.healthySinceUs, fault) : -1;
    const m = this.milestoneUs;
    const converged = fault >= 0 && totalDivergence === 0 && this.lastConvergedUs >= fault;
    let afterFault: string | null = null;
    if (fault >= 0) afterFault = totalDivergence > 0 ? 'diverged' : converged ? 'converged' : 'none';
    // A milestone after recovery is not part of it.
    const within = (t: number): number => (recoveredUs >= 0 && t > recoveredUs ? -1 : t);
    const detect = within(m.detect);
    const elect = within(m.elect);
    const load = within(m.load);
    const noControllerChange = elect < 0 && load < 0;
    const propagateFrom = noControllerChange ? detect : span(detect, elect) !== null && span(elect, load) !== null ? load : -1;
    return {
      recoveryMs: span(fault, recoveredUs),
      phases: {
        detectMs: span(fault, detect),
        electMs: noControllerChange ? null : span(detect, elect),
        loadMs: noControllerChange ? null : span(elect, load),
        propagateMs: span(propagateFrom, recoveredUs),
      },
      convergedAtMs: converged ? this.lastConvergedUs / 1000 : null,
      afterFault,
    };
  }

  private schedule(atUs: number): void {
    if (this.handle >= 0) this.sim.cancel(this.handle);
    const gen = this.gen;
    this.handle = this.sim.at(atUs, () => {
      this.handle = -1;
      this.check(gen);
    });
  }

  private check(gen: number): void {
    if (!this.healthy || gen !== this.gen) return;
    const now = this.sim.nowUs;
    const faults = this.sim.faults;
    if (faults.stepsRemaining > 0) {
      this.schedule(now + Math.max(this.settleUs, 1000));
      return;
    }
    if (this.verdictUs >= 0 && faults.lastActionAtUs > this.verdictUs) {
      // A trigger fired: the verdict is void (recorded, so that `sim report` sees it too).
      this.verdictUs = -1;
      this.sim.trace.record(now, 'state', -1, -1, 'verdict.void', faults.lastActionAtUs);
    }
    const dueUs = Math.max(this.healthySinceUs, faults.lastActionAtUs) + this.settleUs;
    if (dueUs > now) {
      this.schedule(dueUs);
      return;
    }
    // Without a main fault there is no recovery to judge: the run has settled and stops.
    if (faults.mainFaultAtUs < 0) {
      this.sim.stop('recovered and settled');
      return;
    }
    if (this.verdictUs < 0) {
      if (!this.quiet()) {
        // Healthy, but not yet at rest: look again after the poll interval.
        this.schedule(now + QUIET_POLL_US);
        return;
      }
      this.verdictUs = now;
      this.sim.trace.record(now, 'state', -1, -1, 'verdict.recovered', now - Math.max(this.healthySinceUs, 0));
      if (this.probationUs > 0) {
        this.schedule(now + this.probationUs);
        return;
      }
    } else if (this.verdictUs + this.probationUs > now) {
      this.schedule(this.verdictUs + this.probationUs);
      return;
    }
    this.sim.stop('recovered and settled');
  }
}
