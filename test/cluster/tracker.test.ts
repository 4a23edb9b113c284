import { describe, expect, it } from 'vitest';
import { Simulation, type FaultPlan, type SimNode } from '../../core/index.ts';
import { NO_STATE_EPOCH } from '../../sim/cluster/cache.ts';
import { makeLayout, type ClusterLayout } from '../../sim/cluster/layout.ts';
import { PartitionStateBatch } from '../../sim/cluster/partitions.ts';
import { ClusterTracker, EQUAL, PHANTOM, RECOVERY_HOLDS, STALE } from '../../sim/cluster/tracker.ts';
import { reportThrough, type ScriptedModel } from './report-through.ts';

/** A tiny cluster: 4 brokers, 2 controller nodes, 20 partitions (rf 3), no behaviour of its own. */
function setup(opts: { settleMs?: number; partitions?: number; probationMs?: number; loadingBlind?: boolean } = {}) {
  const sim = new Simulation({ seed: 1 });
  const layout = makeLayout({ partitions: opts.partitions ?? 20, 'partitions.per.topic': 10, brokers: 4, 'replication.factor': 3 });
  const idle = () => ({ onMessage() {} });
  const brokers: SimNode[] = [0, 1, 2, 3].map((b) => sim.addNode(`broker-${b}`, idle));
  const controllers = [sim.addNode('controller-0', idle), sim.addNode('controller-1', idle)];
  const tracker = new ClusterTracker(sim, layout, brokers, { settleMs: opts.settleMs ?? 1000, probationMs: opts.probationMs ?? 0, loadingBlind: opts.loadingBlind ?? false });
  const model = reportThrough(sim, tracker, brokers);
  return { sim, layout, brokers, controllers, tracker, model };
}

/** An active controller that has finished loading (a warm one). */
function activeReady(model: ScriptedModel, node: SimNode): void {
  model.setControllerActive(node, true);
  model.setControllerReady(node);
}

const ms = (x: number) => x * 1000;

/** Runs fn at virtual time atMs (scripted model behaviour). */
function at(sim: Simulation, atMs: number, fn: () => void): void {
  sim.at(ms(atMs), fn);
}

function ledBy(layout: ClusterLayout, b: number): number[] {
  const out: number[] = [];
  for (let p = 0; p < layout.partitions; p++) if (layout.replicas[p * layout.replicationFactor] === b) out.push(p);
  return out;
}

function otherReplica(layout: ClusterLayout, p: number, not: number): number {
  const rf = layout.replicationFactor;
  for (let i = 0; i < rf; i++) if (layout.replicas[p * rf + i] !== not) return layout.replicas[p * rf + i]!;
  throw new Error('no other replica');
}

describe('ClusterTracker: stale vs phantom', () => {
  it('classifies cached states against everything ever committed, including the initial state', () => {
    const { sim, layout, tracker, model } = setup();
    sim.run({ untilUs: 0 });
    const p = 3;
    const [r0, r1, r2] = [0, 1, 2].map((i) => layout.replicas[p * 3 + i]!);
    expect(tracker.statusOf(0, p)).toBe(EQUAL);
    model.commit(p, r1!, 1, 1, 0b011);
    expect([0, 1, 2, 3].map((b) => tracker.statusOf(b, p))).toEqual([STALE, STALE, STALE, STALE]);
    model.brokerApply(0, p, r1!, 1, 1, 0b011);
    expect(tracker.statusOf(0, p)).toBe(EQUAL);
    // a state no controller ever committed (a zombie's LeaderAndIsr)
    model.brokerApply(1, p, r2!, 5, 9, 0b100);
    expect(tracker.statusOf(1, p)).toBe(PHANTOM);
    expect(tracker.brokerPhantoms(1)).toBe(1);
    // same leader and epoch but another ISR was never committed either
    model.brokerApply(2, p, r1!, 1, 1, 0b001);
    expect(tracker.statusOf(2, p)).toBe(PHANTOM);
    // the initial state was committed
    model.brokerApply(3, p, r0!, 0, 0, 0b111);
    expect(tracker.statusOf(3, p)).toBe(STALE);
    // once truth reaches the phantom state it is no longer phantom
    model.commit(p, r2!, 5, 9, 0b100);
    expect(tracker.statusOf(1, p)).toBe(EQUAL);
    expect(tracker.statusOf(0, p)).toBe(STALE);
    expect(tracker.statusOf(2, p)).toBe(PHANTOM);
    expect(tracker.totalDivergence).toBe(3);
    expect(tracker.metrics().divergence.phantomStates).toBe(2);
  });

  it('counts a reset cache as stale in every partition until reloaded', () => {
    const { sim, layout, tracker, model } = setup();
    sim.run({ untilUs: 0 });
    model.brokerCacheReset(2);
    expect(tracker.brokerDivergence(2)).toBe(layout.partitions);
    expect(tracker.brokerPhantoms(2)).toBe(0);
    expect(tracker.cachedLeaderEpoch(2, 0)).toBe(NO_STATE_EPOCH);
    // partitions led by broker 2 are unavailable: its cache no longer holds its leadership
    expect(tracker.unavailable).toBe(ledBy(layout, 2).length);
    const t = tracker.truth;
    for (let p = 0; p < layout.partitions; p++) model.brokerApply(2, p, t.leader[p]!, t.leaderEpoch[p]!, t.partitionEpoch[p]!, t.isr[p]!);
    expect(tracker.brokerDivergence(2)).toBe(0);
    expect(tracker.unavailable).toBe(0);
  });
});

describe('ClusterTracker: availability', () => {
  it('loses the partitions a crashed leader led until a new leader applies its leadership', () => {
    const { sim, layout, brokers, tracker, model } = setup();
    const led = ledBy(layout, 1);
    expect(led.length).toBeGreaterThan(0);
    at(sim, 1000, () => sim.crash(brokers[1]!));
    at(sim, 1000, () => expect(tracker.unavailable).toBe(led.length));
    at(sim, 2000, () => {
      for (const p of led) model.commit(p, otherReplica(layout, p, 1), 1, 1, 0b111);
      // committed, but no new leader has applied it yet
      expect(tracker.unavailable).toBe(led.length);
    });
    at(sim, 2500, () => {
      for (const b of [0, 2, 3]) for (const p of led) model.brokerApply(b, p, otherReplica(layout, p, 1), 1, 1, 0b111);
      expect(tracker.unavailable).toBe(0);
      expect(tracker.totalDivergence).toBe(0);
    });
    sim.run({ untilUs: ms(3000) });
    const m = tracker.metrics();
    expect(m.maxUnavailablePartitions).toBe(led.length);
    expect(m.unavailablePartitionMs).toBe(led.length * 1500);
    // the dead broker is not counted; the others diverged from 2000 to 2500 ms
    expect(m.divergence.partitionMs).toBe(3 * led.length * 500);
    expect(m.divergence.maxPartitions).toBe(led.length);
  });

  it('needs the leader to serve (unfenced / registered)', () => {
    const { sim, layout, tracker, model } = setup();
    sim.run({ untilUs: 0 });
    model.setBrokerServing(0, false);
    expect(tracker.unavailable).toBe(ledBy(layout, 0).length);
    model.setBrokerServing(0, true);
    expect(tracker.unavailable).toBe(0);
  });

  it('counts partitions with two self-believed leaders', () => {
    const { sim, layout, brokers, tracker, model } = setup();
    const p = ledBy(layout, 0)[0]!;
    const other = otherReplica(layout, p, 0);
    at(sim, 100, () => {
      // a zombie's LeaderAndIsr makes `other` believe it leads while broker 0 still does
      model.brokerApply(other, p, other, 1, 1, 0b111);
      expect(tracker.dualLeaderPartitions).toBe(1);
      expect(tracker.selfBelievedLeaders(p)).toBe(2);
    });
    at(sim, 300, () => sim.crash(brokers[0]!));
    at(sim, 300, () => expect(tracker.dualLeaderPartitions).toBe(0));
    sim.run({ untilUs: ms(400) });
    expect(tracker.extra().dualLeaderPartitionsMax).toBe(1);
    expect(tracker.extra().phantomPartitionsMax).toBe(1);
  });
});

describe('ClusterTracker: split brain', () => {
  it('measures time with more than one acting controller; a paused one does not act', () => {
    const { sim, controllers, tracker, model } = setup();
    const [c0, c1] = controllers as [SimNode, SimNode];
    at(sim, 0, () => model.setControllerActive(c0, true));
    at(sim, 1000, () => model.setControllerActive(c1.id, true));
    at(sim, 1000, () => expect(tracker.activeControllers).toBe(2));
    at(sim, 4000, () => model.setControllerActive(c0, false));
    at(sim, 5000, () => {
      sim.pause(c1);
      model.setControllerActive(c0, true);
      expect(tracker.activeControllers).toBe(1);
    });
    at(sim, 6000, () => sim.resume(c1));
    at(sim, 7000, () => sim.crash(c1));
    at(sim, 7000, () => expect(tracker.activeControllers).toBe(1));
    at(sim, 8000, () => sim.restart(c1));
    sim.run({ untilUs: ms(9000) });
    // a restarted controller does not believe it is active until its model says so
    expect(tracker.activeControllers).toBe(1);
    expect(tracker.metrics().splitBrainMs).toBe(3000 + 1000);
    expect(tracker.extra().activeControllersMax).toBe(2);
  });

  it('refuses an id that is not a simulation node', () => {
    const { model } = setup();
    expect(() => model.setControllerActive(3000, true)).toThrow(/no simulation node/);
  });
});

describe('ClusterTracker: recovery, phases and the auto-stop', () => {
  /** A scripted failover: the active controller crashes at 1 s; milestones every 500 ms; brokers converge at 3 s. */
  function failover(plan: FaultPlan, settleMs = 1000) {
    const env = setup({ settleMs });
    const { sim, controllers, brokers, tracker, model } = env;
    const [c0, c1] = controllers as [SimNode, SimNode];
    sim.faults.defineRole('activeController', () => c0);
    activeReady(model, c0);
    at(sim, 500, () => model.milestone('detect')); // before the fault: ignored
    at(sim, 1500, () => model.milestone('detect'));
    at(sim, 2000, () => {
      model.setControllerActive(c1, true);
      model.milestone('elect');
    });
    at(sim, 2500, () => {
      model.setControllerReady(c1);
      model.milestone('load');
      model.milestone('detect'); // a second call does not move the first
      for (let p = 0; p < 5; p++) model.commit(p, tracker.truth.leader[p]!, 1, 1, 0b111);
    });
    at(sim, 3000, () => {
      for (let b = 0; b < brokers.length; b++) for (let p = 0; p < 5; p++) model.brokerApply(b, p, tracker.truth.leader[p]!, 1, 1, 0b111);
    });
    sim.installFaults(plan);
    const outcome = sim.run({ untilUs: ms(60_000) });
    return { ...env, outcome };
  }

  const crashController: FaultPlan = { steps: [{ atMs: 1000, action: { type: 'crash', node: '@activeController' }, main: true }] };

  it('reports recovery and its phases from the milestones', () => {
    const { tracker, outcome } = failover(crashController);
    const m = tracker.metrics();
    expect(m.recoveryMs).toBe(2000);
    expect(m.phases).toEqual({ detectMs: 500, electMs: 500, loadMs: 500, propagateMs: 500 });
    expect(m.divergence.convergedAtMs).toBe(3000);
    expect(m.divergence.maxPartitions).toBe(5);
    expect(m.divergence.partitionMs).toBe(4 * 5 * 500);
    expect(m.unavailablePartitionMs).toBe(5 * 500);
    expect(m.splitBrainMs).toBe(0);
    expect(m.divergence.phantomStates).toBe(0);
    expect(outcome.reason).toBe('stopped');
    expect(outcome.detail).toBe('recovered and settled');
    // healthy from 3 s, settled 1 s later
    expect(outcome.nowUs).toBe(ms(4000));
  });

  it('leaves a phase null when its milestone is missing', () => {
    const env = setup();
    const { sim, controllers, tracker, model } = env;
    const [c0, c1] = controllers as [SimNode, SimNode];
    sim.faults.defineRole('activeController', () => c0);
    activeReady(model, c0);
    at(sim, 1200, () => model.milestone('elect'));
    at(sim, 1200, () => activeReady(model, c1));
    sim.installFaults(crashController);
    sim.run({ untilUs: ms(60_000) });
    const m = tracker.metrics();
    expect(m.recoveryMs).toBe(200);
    expect(m.phases).toEqual({ detectMs: null, electMs: null, loadMs: null, propagateMs: null });
  });

  it('does not stop before every fault step has run', () => {
    const plan: FaultPlan = { steps: [...crashController.steps, { atMs: 10_000, action: { type: 'heal' } }] };
    const { outcome, tracker } = failover(plan);
    expect(outcome.reason).toBe('stopped');
    expect(outcome.nowUs).toBe(ms(11_000));
    expect(tracker.metrics().recoveryMs).toBe(2000);
  });

  it('never stops while unhealthy, and then recovery does not apply', () => {
    const { sim, tracker, model, brokers } = setup();
    sim.faults.defineRole('b0', () => brokers[0]!);
    sim.installFaults({ steps: [{ atMs: 1000, action: { type: 'crash', node: '@b0' }, main: true }] });
    const outcome = sim.run({ untilUs: ms(20_000) });
    // no node ever claimed the controller: never healthy
    expect(outcome.reason).not.toBe('stopped');
    const m = tracker.metrics();
    expect(m.recoveryMs).toBeNull();
    expect(m.phases).toEqual({ detectMs: null, electMs: null, loadMs: null, propagateMs: null });
    expect(m.maxUnavailablePartitions).toBeGreaterThan(0);
  });

  it('reports null for fault-relative figures when there is no main fault', () => {
    const { sim, tracker, model, controllers } = setup();
    activeReady(model, controllers[0]!);
    const outcome = sim.run({ untilUs: ms(20_000) });
    expect(outcome.reason).toBe('stopped');
    const m = tracker.metrics();
    expect(m.recoveryMs).toBeNull();
    expect(m.divergence.convergedAtMs).toBeNull();
    expect(m.phases.detectMs).toBeNull();
    expect(m.splitBrainMs).toBe(0);
    expect(m.unavailablePartitionMs).toBe(0);
    expect(tracker.extra().divergenceAfterFault).toBeNull();
  });

  it('reports recovery 0 and no convergence time when the fault disturbed nothing', () => {
    const { sim, tracker, model, controllers, brokers } = setup();
    activeReady(model, controllers[0]!);
    sim.faults.defineRole('spare', () => controllers[1]!);
    sim.installFaults({ steps: [{ atMs: 1000, action: { type: 'crash', node: '@spare' }, main: true }] });
    const outcome = sim.run({ untilUs: ms(20_000) });
    expect(outcome.nowUs).toBe(ms(2000));
    const m = tracker.metrics();
    expect(m.recoveryMs).toBe(0);
    expect(m.divergence.convergedAtMs).toBeNull();
    expect(tracker.extra().divergenceAfterFault).toBe('none');
    expect(brokers.every((b) => b.up)).toBe(true);
  });

  it('counts a restarted broker as divergent until it reloads, then converges', () => {
    const { sim, tracker, model, controllers, brokers, layout } = setup();
    activeReady(model, controllers[0]!);
    sim.faults.defineRole('b2', () => brokers[2]!);
    sim.installFaults({
      steps: [
        { atMs: 1000, action: { type: 'crash', node: '@b2' }, main: true },
        { atMs: 2000, action: { type: 'restart', node: 'broker-2' } },
      ],
    });
    // the broker's model empties its cache on start, and loads metadata 700 ms later
    sim.onLifecycle((node, event) => {
      if (node !== brokers[2] || event !== 'start' || sim.nowUs === 0) return;
      model.brokerCacheReset(2);
      sim.after(ms(700), () => {
        const t = tracker.truth;
        for (let p = 0; p < layout.partitions; p++) model.brokerApply(2, p, t.leader[p]!, t.leaderEpoch[p]!, t.partitionEpoch[p]!, t.isr[p]!);
      });
    });
    const outcome = sim.run({ untilUs: ms(20_000) });
    const m = tracker.metrics();
    expect(m.divergence.maxPartitions).toBe(layout.partitions);
    expect(m.divergence.partitionMs).toBe(layout.partitions * 700);
    expect(m.divergence.convergedAtMs).toBe(2700);
    expect(m.recoveryMs).toBe(1700);
    expect(outcome.nowUs).toBe(ms(3700));
  });
});

describe('ClusterTracker: a loading controller, the verdict and cluster.recovery-holds', () => {
  const crashController: FaultPlan = { steps: [{ atMs: 1000, action: { type: 'crash', node: '@activeController' }, main: true }] };

  /** c0 crashes at 1 s; c1 is elected at 2 s and loads until 4 s; nothing else is disturbed. */
  function loadingFailover(opts: { loadingBlind?: boolean; probationMs?: number; settleMs?: number; after?: (env: ReturnType<typeof setup>) => void } = {}) {
    const env = setup({ settleMs: opts.settleMs ?? 1000, probationMs: opts.probationMs ?? 0, loadingBlind: opts.loadingBlind ?? false });
    const { sim, controllers, tracker, model } = env;
    const [c0, c1] = controllers as [SimNode, SimNode];
    sim.faults.defineRole('activeController', () => c0);
    activeReady(model, c0);
    at(sim, 1500, () => model.milestone('detect'));
    at(sim, 2000, () => {
      model.setControllerActive(c1, true);
      model.milestone('elect');
    });
    at(sim, 4000, () => {
      model.setControllerReady(c1);
      model.milestone('load');
    });
    opts.after?.(env);
    sim.installFaults(crashController);
    const outcome = sim.run({ untilUs: ms(60_000) });
    return { ...env, outcome };
  }

  it('an active controller that is still loading is not healthy: recovery waits for it', () => {
    const { tracker, outcome } = loadingFailover();
    expect(tracker.activeControllers).toBe(1);
    expect(tracker.readyControllers).toBe(1);
    const m = tracker.metrics();
    expect(m.recoveryMs).toBe(3000);
    expect(m.phases).toEqual({ detectMs: 500, electMs: 500, loadMs: 2000, propagateMs: 0 });
    // healthy from 4 s, the verdict 1 s later, no probation: the stop
    expect(outcome.reason).toBe('stopped');
    expect(outcome.nowUs).toBe(ms(5000));
    expect(tracker.verdictAtMs).toBe(5000);
  });

  it("what-if 'tracker.loading-blind': the old definition declares recovery while the controller loads", () => {
    const { tracker, outcome } = loadingFailover({ loadingBlind: true });
    expect(tracker.metrics().recoveryMs).toBe(1000);
    expect(outcome.nowUs).toBe(ms(3000));
  });

  it('a loss of health after the verdict with no fault in between violates cluster.recovery-holds', () => {
    // The loading-blind verdict comes at 3 s; at 4.5 s the controller, done loading, moves a leader.
    const { sim, outcome } = loadingFailover({
      loadingBlind: true,
      probationMs: 5000,
      after: ({ sim: s, tracker: t }) => at(s, 4500, () => t.commit(0, t.truth.leader[0]!, 1, 1, 0b111)),
    });
    expect(outcome.reason).toBe('violation');
    const v = sim.props.violation!;
    expect(v.invariant).toBe(RECOVERY_HOLDS);
    expect(v.atUs).toBe(ms(4500));
    expect(v.detail).toMatch(/declared recovered at 3000 ms.*lost health at 4500 ms.*1 unavailable partition/);
  });

  it('stays quiet when the same late change comes with the honest definition, and the run stops after the probation', () => {
    const { sim, tracker, brokers, outcome } = loadingFailover({
      probationMs: 5000,
      after: ({ sim: s, tracker: t, brokers: bs }) => {
        at(s, 4000, () => t.commit(0, t.truth.leader[0]!, 1, 1, 0b111));
        at(s, 4200, () => { for (let b = 0; b < bs.length; b++) t.brokerApply(b, 0, t.truth.leader[0]!, 1, 1, 0b111); });
      },
    });
    expect(sim.props.violation).toBeNull();
    expect(tracker.metrics().recoveryMs).toBe(3200);
    // healthy from 4.2 s, the verdict at 5.2 s, the stop 5 s later
    expect(tracker.verdictAtMs).toBe(5200);
    expect(outcome.reason).toBe('stopped');
    expect(outcome.nowUs).toBe(ms(10_200));
    void brokers;
  });

  it('divergence alone after the verdict withdraws it but is no outage; an outage before health returns is', () => {
    const late = (unavailable: boolean) => loadingFailover({
      probationMs: 5000,
      after: ({ sim: s, tracker: t, brokers: bs }) => {
        // At 6 s (verdict at 5 s) a committed ISR change the brokers apply 100 ms later; with
        // `unavailable`, a leader move lands at 6.05 s, before they have.
        const p = 0;
        at(s, 6000, () => t.commit(p, t.truth.leader[p]!, 0, 1, 0b011));
        if (unavailable) at(s, 6050, () => t.commit(1, otherReplica(t.layout, 1, t.truth.leader[1]!), 1, 2, 0b111));
        at(s, 6100, () => { for (let b = 0; b < bs.length; b++) t.brokerApply(b, p, t.truth.leader[p]!, 0, 1, 0b011); });
      },
    });
    const quiet = late(false);
    expect(quiet.sim.props.violation).toBeNull();
    expect(quiet.tracker.metrics().recoveryMs).toBe(5100);
    const loud = late(true);
    expect(loud.sim.props.violation?.invariant).toBe(RECOVERY_HOLDS);
    expect(loud.sim.props.violation!.atUs).toBe(ms(6050));
  });

  it('an outage that follows a new fault action is not a broken verdict', () => {
    const env = setup({ probationMs: 10_000 });
    const { sim, controllers, brokers, tracker, model } = env;
    activeReady(model, controllers[0]!);
    sim.faults.defineRole('b1', () => brokers[1]!);
    // The main fault disturbs nothing; the verdict comes at 2 s; a trigger crashes broker 1 at 3 s.
    sim.installFaults({
      steps: [{ atMs: 1000, action: { type: 'crash', node: 'controller-1' }, main: true }],
      triggers: [{ when: { kind: 'state', label: 'verdict.recovered' }, afterMs: 1000, action: { type: 'crash', node: '@b1' } }],
    });
    const outcome = sim.run({ untilUs: ms(30_000) });
    expect(sim.props.violation).toBeNull();
    expect(tracker.isHealthy).toBe(false);
    expect(outcome.reason).not.toBe('violation');
  });

  it('a broker failure without a controller change: electMs and loadMs are null, propagateMs runs from detection', () => {
    const env = setup();
    const { sim, controllers, brokers, tracker, model, layout } = env;
    activeReady(model, controllers[0]!);
    sim.faults.defineRole('b1', () => brokers[1]!);
    sim.installFaults({ steps: [{ atMs: 1000, action: { type: 'crash', node: '@b1' }, main: true }] });
    at(sim, 1800, () => model.milestone('detect'));
    at(sim, 2000, () => {
      // the controller moves broker 1's leaderships; the brokers apply them 500 ms later
      const t = tracker.truth;
      const moved = ledBy(layout, 1);
      for (const p of moved) model.commit(p, otherReplica(layout, p, 1), 1, 1, t.isr[p]!);
      at(sim, 2500, () => {
        for (let b = 0; b < brokers.length; b++) for (const p of moved) model.brokerApply(b, p, t.leader[p]!, 1, 1, t.isr[p]!);
      });
    });
    sim.run({ untilUs: ms(30_000) });
    const m = tracker.metrics();
    expect(m.recoveryMs).toBe(1500);
    expect(m.phases).toEqual({ detectMs: 800, electMs: null, loadMs: null, propagateMs: 700 });
  });

  it('a milestone after recovery is not part of it', () => {
    const env = setup();
    const { sim, controllers, tracker, model } = env;
    const [c0, c1] = controllers as [SimNode, SimNode];
    sim.faults.defineRole('activeController', () => c0);
    activeReady(model, c0);
    at(sim, 1100, () => model.milestone('detect'));
    at(sim, 1200, () => activeReady(model, c1));
    at(sim, 1600, () => model.milestone('elect'));
    sim.installFaults(crashController);
    sim.run({ untilUs: ms(60_000) });
    const m = tracker.metrics();
    expect(m.recoveryMs).toBe(200);
    expect(m.phases).toEqual({ detectMs: 100, electMs: null, loadMs: null, propagateMs: 100 });
  });
});

describe('ClusterTracker at scale', () => {
  it('tracks a leader-epoch bump of 2M partitions on 12 brokers', () => {
    const sim = new Simulation({ seed: 1 });
    const layout = makeLayout({ partitions: 2_000_000, 'partitions.per.topic': 50, brokers: 12, 'replication.factor': 3 });
    const brokers = Array.from({ length: 12 }, (_, b) => sim.addNode(`broker-${b}`, () => ({ onMessage() {} })));
    const tracker = new ClusterTracker(sim, layout, brokers, { settleMs: 1000 });
    const { obs } = reportThrough(sim, tracker, brokers);
    sim.run({ untilUs: 0 });
    const t = tracker.truth;
    // As the models report them: batches of 10,000 states.
    const batches: PartitionStateBatch[] = [];
    for (let from = 0; from < layout.partitions; from += 10_000) {
      const b = PartitionStateBatch.ofSize(10_000);
      for (let p = from; p < from + 10_000; p++) b.push(p, t.leader[p]!, 1, 1, t.isr[p]!);
      batches.push(b);
    }
    for (const b of batches) obs.truth(b);
    expect(tracker.totalDivergence).toBe(24_000_000);
    expect(tracker.unavailable).toBe(2_000_000);
    for (let b = 0; b < 12; b++) for (const batch of batches) obs.applied(b, batch);
    expect(tracker.totalDivergence).toBe(0);
    expect(tracker.unavailable).toBe(0);
  });
});
