import type { Simulation } from '../../core/index.ts';
import type { Metrics } from '../result.ts';

export type Milestone = 'detect' | 'elect' | 'load';

/**
 * Health over time and the run's end: when the cluster last became healthy, when total divergence
 * last reached zero, the recovery milestones the models report, and the auto-stop — once every
 * timed fault step has run and the cluster has been healthy for settle.ms since both its last
 * transition to healthy and the last fault action, sim.stop('recovered and settled'). The check is
 * scheduled on transitions (and, while fault steps remain, every settle.ms), never per event.
 */
export class RecoveryWatch {
  healthy = false;
  private healthySinceUs = -1;
  private gen = 0;
  private handle = -1;
  private prevDivergence = 0;
  private lastConvergedUs = -1;
  private readonly milestoneUs = { detect: -1, elect: -1, load: -1 };

  constructor(
    private readonly sim: Simulation,
    private readonly settleUs: number,
  ) {}

  /** Called after every change of the tracked state. */
  update(healthy: boolean, totalDivergence: number): void {
    const now = this.sim.nowUs;
    if (this.prevDivergence > 0 && totalDivergence === 0) this.lastConvergedUs = now;
    this.prevDivergence = totalDivergence;
    if (healthy === this.healthy) return;
    this.healthy = healthy;
    this.gen++;
    if (healthy) {
      this.healthySinceUs = now;
      this.schedule(now + this.settleUs);
    } else if (this.handle >= 0) {
      this.sim.cancel(this.handle);
      this.handle = -1;
    }
  }

  /** The first call of each milestone at or after the main fault counts. */
  milestone(name: Milestone): void {
    const fault = this.sim.faults.mainFaultAtUs;
    if (fault < 0 || this.milestoneUs[name] >= 0) return;
    this.milestoneUs[name] = this.sim.nowUs;
    this.sim.trace.record(this.sim.nowUs, 'state', -1, -1, `milestone.${name}`, this.sim.nowUs - fault);
  }

  /** recoveryMs, phases and convergedAtMs (see ClusterTracker for the definitions). */
  figures(totalDivergence: number): Pick<Metrics, 'recoveryMs' | 'phases'> & { convergedAtMs: number | null; afterFault: string | null } {
    const fault = this.sim.faults.mainFaultAtUs;
    const span = (from: number, to: number): number | null => (from < 0 || to < 0 || to < from ? null : (to - from) / 1000);
    const recoveredUs = fault >= 0 && this.healthy ? Math.max(this.healthySinceUs, fault) : -1;
    const m = this.milestoneUs;
    const converged = fault >= 0 && totalDivergence === 0 && this.lastConvergedUs >= fault;
    let afterFault: string | null = null;
    if (fault >= 0) afterFault = totalDivergence > 0 ? 'diverged' : converged ? 'converged' : 'none';
    return {
      recoveryMs: span(fault, recoveredUs),
      phases: { detectMs: span(fault, m.detect), electMs: span(m.detect, m.elect), loadMs: span(m.elect, m.load), propagateMs: span(m.load, recoveredUs) },
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
    const dueUs = Math.max(this.healthySinceUs, faults.lastActionAtUs) + this.settleUs;
    if (dueUs > now) {
      this.schedule(dueUs);
      return;
    }
    this.sim.stop('recovered and settled');
  }
}
