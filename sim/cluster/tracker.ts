import type { LifecycleEvent, SimNode } from '../../core/index.ts';
import type { Metrics } from '../result.ts';
import { NO_STATE_EPOCH } from './cache.ts';
import { hostedBy, initialLeaders, preferredBy, type ClusterLayout } from './layout.ts';
import type { ControllerState, Observer } from './observe.ts';
import { fullIsrMask, PartitionTable, type PartitionStateBatch } from './partitions.ts';
import { TruthHistory } from './history.ts';
import { RECOVERY_HOLDS, RecoveryWatch, type Milestone, type RecoveryHost } from './recovery.ts';
import { seriesOf, type TrackerSampler } from './series.ts';

export { RECOVERY_HOLDS, type Milestone } from './recovery.ts';

/** How a broker's cached state of a partition compares with truth (design §5). */
export const EQUAL = 0;
/** Differs from truth but was committed at some time (or the cache holds nothing yet). */
export const STALE = 1;
/** Differs from truth and was never committed (e.g. applied from a zombie controller). */
export const PHANTOM = 2;
export type CacheStatus = typeof EQUAL | typeof STALE | typeof PHANTOM;

/**
 * Mirror reference: the layout's initial state of the partition (leader = first replica, epoch 0,
 * full ISR). Zero, so that a fresh mirror holds it without being filled; history entry e is
 * referenced as e + 1 (refOf), which makes a partition's head reference `headOf(p) + 1` whether or
 * not anything was committed.
 */
const REF_INITIAL = 0;
/** Mirror reference: no state (the broker's cache was reset and has not loaded this partition). */
const REF_NONE = -1;

/** Largest buffer the tracker's per-broker rows are carved from (several when they need more). */
const TRACKER_BUFFER_BYTES = 1 << 30;

/** The mirror reference of history entry e. */
function refOf(e: number): number {
  return e + 1;
}

/**
 * What the tracker needs from its simulation (a Simulation, or `sim report`'s replay of a trace):
 * the clock, node liveness, lifecycle events, and what RecoveryWatch needs.
 */
export interface TrackerHost extends RecoveryHost {
  readonly nodes: readonly { readonly up: boolean; readonly paused: boolean }[];
  onLifecycle(listener: (node: { readonly id: number }, event: LifecycleEvent) => void): void;
  readonly props: { safety(name: string, check: () => string | null, opts: { on?: readonly string[] }): void };
}

export interface TrackerOptions {
  /** Healthy this long after the last fault step ⇒ the run is declared recovered. */
  readonly settleMs: number;
  /** After the verdict the run goes on this long, watched by cluster.recovery-holds, then stops (default 0). */
  readonly probationMs?: number;
  /**
   * What-if 'tracker.loading-blind': the old definition of healthy, which counts an active
   * controller that is still loading as a controller. Exists to show cluster.recovery-holds firing.
   */
  readonly loadingBlind?: boolean;
}

/**
 * The tracker of each simulation, for output recorders that sample it (--perfetto); read only. One
 * map per process, not per module instance: a scenario file is imported in its own tsx namespace, so
 * the models it builds use another instance of this module than the runner does.
 */
const REGISTRY = Symbol.for('kraftsim.cluster-trackers');
const registryHolder = globalThis as { [REGISTRY]?: WeakMap<object, ClusterTracker> };
const trackers = (registryHolder[REGISTRY] ??= new WeakMap<object, ClusterTracker>());

/** The cluster tracker a Kafka scenario built for this simulation, if any. */
export function trackerOf(sim: object): ClusterTracker | undefined {
  return trackers.get(sim);
}

/**
 * The ground-truth observer of design §5, a subscriber of the models' ObservationChannel (observe.ts):
 * what is committed (truth → commit), what each broker's metadata cache holds (applied →
 * brokerApply, cacheReset → brokerCacheReset), which brokers serve (serving → setBrokerServing)
 * and which nodes believe they are the active controller (controller → setControllerActive /
 * setControllerReady); broker liveness comes from the simulation's lifecycle events. It keeps its
 * own truth and its own mirror of each broker's cache, built only from observations; models never
 * read them. The mirror is compact: per broker and partition one Int32 pointing at an entry of the
 * truth history (a state once committed), a detached entry (a phantom), or the initial / no state.
 * Everything is maintained incrementally: commit is O(brokers), brokerApply O(1) when the state
 * equals truth (else O(changes of that partition)), liveness/serving/reset changes O(partitions).
 *
 * Definitions (design §5; metrics() in the result's `metrics`, extra() in its `extra`):
 * - divergence of broker b: partitions whose (leader, leaderEpoch, ISR) in b's cache differ from
 *   truth (partitionEpoch is not compared). STALE when the cached triple was committed at some
 *   time (truth's history, or the layout's initial state) or the cache holds nothing for p
 *   (after brokerCacheReset); PHANTOM when it was never committed. Only live brokers count.
 * - divergence.maxPartitions: max over time of the largest single live broker's divergence.
 * - divergence.partitionMs: ∫ Σ_live b divergence(b) dt, in partition·ms.
 * - divergence.phantomStates: brokerApply calls that changed a cached state into a phantom one.
 * - divergence.convergedAtMs: virtual time (ms since start) of the last transition of the total
 *   divergence to 0 at or after the main fault; null with no main fault, while still divergent,
 *   or when nothing diverged after the fault (then extra.divergenceAfterFault = 'none').
 * - available(p): truth's leader is a live, serving broker whose own cache holds that leader and
 *   leaderEpoch. unavailablePartitionMs = ∫ unavailable dt; maxUnavailablePartitions its max.
 * - active controllers: nodes flagged by setControllerActive that are up and not paused (a crash
 *   clears the flag). splitBrainMs = time with more than one. An active controller is *loading*
 *   from setControllerActive(n, true) until setControllerReady(n): ZK mode, until
 *   onControllerFailover has returned; KRaft, until it has replayed the log up to its epoch's start
 *   (the high watermark once its first record committed).
 * - healthy: exactly one active controller and it has finished loading, no unavailable partition,
 *   zero divergence. recoveryMs = main fault → the last transition to healthy (0 when health was
 *   never lost after the fault; null with no main fault or when unhealthy at the end). Phases:
 *   detect = fault → 'detect', elect = 'detect' → 'elect', load = 'elect' → 'load', propagate =
 *   'load' → recovered, or 'detect' → recovered when no controller changed (elect and load null);
 *   null when an end is missing or they are out of order. See RecoveryWatch for the verdict and
 *   the property cluster.recovery-holds.
 * - extra.dualLeaderPartitionsMax: max partitions with two or more live brokers whose own cache
 *   names themselves leader.
 *
 * Maxima are over states that held for a positive span of virtual time (plus the state the run
 * ends in), so the intermediate counts inside one event do not register.
 */
export class ClusterTracker {
  /** The tracker's own copy of truth, from truth observations (observer state: models do not read it). */
  readonly truth: PartitionTable;
  readonly layout: ClusterLayout;
  private readonly history: TruthHistory;
  /** mirror[b][p]: what broker b's cache holds for p, as a reference (REF_* or a history entry). */
  private readonly mirror: Int32Array[];
  private readonly nBrokers: number;
  /** written[b] = 1 once broker b's mirror may hold something other than REF_INITIAL. */
  private readonly written: Uint8Array;
  /** status[b][p]: EQUAL / STALE / PHANTOM of broker b's cache for p. */
  private readonly status: Uint8Array[];
  private readonly divergent: Int32Array;
  private readonly phantom: Int32Array;
  private readonly live: Uint8Array;
  private readonly servingFlags: Uint8Array;
  private readonly brokerOfNode = new Map<number, number>();
  private readonly available: Uint8Array;
  /** Live brokers whose own cache names themselves leader of p. */
  private readonly selfLeaders: Uint8Array;
  private readonly initialIsr: number;

  private nUnavailable = 0;
  private nDivergent = 0;
  private nPhantom = 0;
  private nDualLeaders = 0;
  private nActiveControllers = 0;
  /** Active controllers (up, not paused) that have finished loading. */
  private nReadyControllers = 0;
  private readonly controllerFlags = new Set<number>();
  private readonly readyFlags = new Set<number>();
  private readonly loadingBlind: boolean;

  // integrals (partition·µs, µs) and maxima
  private lastUs: number;
  private unavailableUs = 0;
  private divergenceUs = 0;
  private splitBrainUs = 0;
  private maxUnavailable = 0;
  private maxBrokerDivergence = 0;
  private maxTotalDivergence = 0;
  private maxPhantomLive = 0;
  private maxDualLeaders = 0;
  private maxActiveControllers = 0;
  private phantomApplies = 0;

  private readonly recovery: RecoveryWatch;
  /** Time series of the run (`--series`, `--report`), when it records them. */
  private readonly sampler: TrackerSampler | null;

  constructor(
    private readonly sim: TrackerHost,
    layout: ClusterLayout,
    brokers: readonly { readonly id: number }[],
    opts: TrackerOptions,
  ) {
    if (brokers.length !== layout.brokers) throw new Error(`ClusterTracker: ${brokers.length} broker nodes for a layout of ${layout.brokers} brokers`);
    this.layout = layout;
    this.truth = new PartitionTable(layout);
    this.history = new TruthHistory(layout.partitions, layout);
    this.initialIsr = fullIsrMask(layout.replicationFactor);
    this.loadingBlind = opts.loadingBlind === true;
    this.recovery = new RecoveryWatch(sim, Math.round(opts.settleMs * 1000), Math.round((opts.probationMs ?? 0) * 1000), () => this.describeHealth());
    const B = layout.brokers;
    const P = layout.partitions;
    this.nBrokers = B;
    // Per broker a mirror (Int32, REF_INITIAL = 0: no fill) and a status row (EQUAL = 0), as views
    // of a few large buffers rather than two allocations per broker.
    this.mirror = [];
    this.status = [];
    const perBuffer = Math.max(1, Math.floor(TRACKER_BUFFER_BYTES / (P * 5)));
    let buf: ArrayBuffer | null = null;
    for (let b = 0; b < B; b++) {
      const k = b % perBuffer;
      if (k === 0) buf = new ArrayBuffer(Math.min(perBuffer, B - b) * P * 5);
      const rows = Math.min(perBuffer, B - (b - k));
      this.mirror.push(new Int32Array(buf!, k * P * 4, P));
      this.status.push(new Uint8Array(buf!, rows * P * 4 + k * P, P));
      this.brokerOfNode.set(brokers[b]!.id, b);
    }
    this.written = new Uint8Array(B);
    this.divergent = new Int32Array(B);
    this.phantom = new Int32Array(B);
    this.live = new Uint8Array(B);
    this.servingFlags = new Uint8Array(B).fill(1);
    for (let b = 0; b < B; b++) {
      const n = sim.nodes[brokers[b]!.id]!;
      this.live[b] = n.up && !n.paused ? 1 : 0;
    }
    const flags = new ArrayBuffer(P * 2);
    this.available = new Uint8Array(flags, 0, P);
    this.selfLeaders = new Uint8Array(flags, P, P);
    // A cluster is built before its brokers start: with none live, nothing is available or self-led.
    if (!this.live.includes(1)) this.nUnavailable = P;
    else for (let p = 0; p < P; p++) {
      const l = this.truth.leader[p]!;
      if (this.live[l] === 1) this.incSelf(p);
      if (this.computeAvailable(p)) this.available[p] = 1;
      else this.nUnavailable++;
    }
    this.lastUs = sim.nowUs;
    this.sampler = seriesOf(sim) ?? null;
    this.sampler?.brokers(brokers);
    trackers.set(sim, this);
    sim.onLifecycle((node, event) => this.onLifecycle(node, event));
    this.updateHealth();
    // Every Kafka run, both modes: a recovered verdict is not followed by an outage without a fault.
    sim.props.safety(RECOVERY_HOLDS, () => this.recovery.judge(), { on: ['verdict.lost'] });
  }

  // ---- Observer: what the models report ----

  /** The tracker as a subscriber of the models' ObservationChannel. */
  readonly observer: Observer = {
    truth: (batch) => this.commitBatch(batch),
    applied: (broker, batch) => this.brokerApplyBatch(broker, batch),
    cacheReset: (broker) => this.brokerCacheReset(broker),
    serving: (broker, serving) => this.setBrokerServing(broker, serving),
    controller: (nodeId, state) => this.onController(nodeId, state),
    milestone: (name) => this.milestone(name),
  };

  /**
   * A mode's check that the cluster is at rest beyond what health measures (see RecoveryWatch.quiet):
   * the verdict is not given while it returns false.
   */
  setQuiet(quiet: () => boolean): void {
    this.recovery.quiet = quiet;
  }

  /** A recovery milestone; the first of each after the main fault counts. */
  milestone(name: Milestone): void {
    this.recovery.milestone(name);
  }

  private onController(nodeId: number, state: ControllerState): void {
    if (state === 'ready') this.setControllerReady(nodeId);
    else this.setControllerActive(nodeId, state === 'active');
  }

  /** `sim report`: the run's trace says the run was declared recovered now. */
  replayVerdict(): void {
    this.recovery.replayVerdict();
  }

  /** `sim report`: the run's trace says a fault action voided the verdict now. */
  replayVerdictVoid(): void {
    this.recovery.replayVerdictVoid();
  }

  // ---- the observations' effects ----

  /** Truth changed for p (KRaft: a record at or below the quorum HW; ZK mode: a committed znode write). */
  commit(p: number, leader: number, leaderEpoch: number, partitionEpoch: number, isrMask: number): void {
    this.advance();
    this.commitAt(p, leader, leaderEpoch, partitionEpoch, isrMask);
  }

  commitBatch(batch: PartitionStateBatch): void {
    // One clock advance for the batch: its states are observed at one instant.
    this.advance();
    for (let i = 0; i < batch.count; i++) {
      this.commitAt(batch.partition[i]!, batch.leader[i]!, batch.leaderEpoch[i]!, batch.partitionEpoch[i]!, batch.isr[i]!);
    }
  }

  /** Broker b's metadata cache now holds this state of p (partitionEpoch is not compared, not kept). */
  brokerApply(b: number, p: number, leader: number, leaderEpoch: number, partitionEpoch: number, isrMask: number): void {
    void partitionEpoch;
    const m = this.mirror[b];
    if (m === undefined) throw new Error(`ClusterTracker.brokerApply: no broker ${b}`);
    this.advance();
    this.written[b] = 1;
    this.applyAt(b, m, p, leader, leaderEpoch, isrMask);
  }

  brokerApplyBatch(b: number, batch: PartitionStateBatch): void {
    const n = batch.count;
    if (n === 0) return;
    const m = this.mirror[b];
    if (m === undefined) throw new Error(`ClusterTracker.brokerApply: no broker ${b}`);
    // One clock advance for the batch: its states are observed at one instant.
    this.advance();
    this.written[b] = 1;
    const part = batch.partition;
    const leader = batch.leader;
    const le = batch.leaderEpoch;
    const isr = batch.isr;
    const t = this.truth;
    const tl = t.leader;
    const tle = t.leaderEpoch;
    const ti = t.isr;
    const st = this.status[b]!;
    // heads[p] = refOf(headOf(p)): the reference of truth's head.
    const heads = this.history.heads;
    const live = this.live[b] === 1;
    for (let i = 0; i < n; i++) {
      const p = part[i]!;
      const l = leader[i]!;
      if (l === tl[p] && le[i] === tle[p] && isr[i] === ti[p]) {
        // Equal to truth: the mirror points at truth's head. When it already did, the cache held
        // this state before: its status is EQUAL (a mirror at truth's head holds truth's triple),
        // and nothing that availability, self-believed leaders or health read has changed.
        const ref = heads[p]!;
        const r = m[p]!;
        if (r === ref) {
          continue;
        }
        m[p] = ref;
        // Only the old leader matters (self-believed leaders); the old state's other fields and the
        // history are not needed.
        if (live) {
          const oldLeader = this.refLeader(p, r);
          if (oldLeader !== l) {
            if (oldLeader === b) this.decSelf(p);
            else if (l === b) this.incSelf(p);
          }
        }
        // Health reads only the divergence and unavailability counts: when neither could change,
        // updateHealth would find what it found last time.
        const s = st[p]!;
        if (s !== EQUAL) this.setStatus(b, p, s, EQUAL);
        if (l === b) this.refreshAvailable(p);
        if (s !== EQUAL || l === b) this.updateHealth();
        continue;
      }
      this.applyAt(b, m, p, l, le[i]!, isr[i]!);
    }
  }

  /** commit() after the clock advance. */
  private commitAt(p: number, leader: number, leaderEpoch: number, partitionEpoch: number, isrMask: number): void {
    // A mirror at the previous truth (its head entry, or the initial state) holds truth's old
    // triple: whether it equals the new one is found once, not per broker.
    const t = this.truth;
    const prevRef = refOf(this.history.headOf(p));
    const sameAsPrev = t.leader[p] === leader && t.leaderEpoch[p] === leaderEpoch && t.isr[p] === isrMask;
    this.history.append(p, leader, leaderEpoch, isrMask);
    t.set(p, leader, leaderEpoch, partitionEpoch, isrMask);
    const B = this.nBrokers;
    for (let b = 0; b < B; b++) {
      const r = this.mirror[b]![p]!;
      const st = this.status[b]![p]!;
      const eq = r === prevRef ? sameAsPrev : this.refLeader(p, r) === leader && this.refLeaderEpoch(r) === leaderEpoch && this.refIsr(r) === isrMask;
      // A cache equal to the previous truth now holds a committed, older state: stale. Stale and
      // phantom stay what they were unless the new truth is exactly what the cache holds.
      const next = (eq ? EQUAL : st === EQUAL ? STALE : st) as CacheStatus;
      if (next !== st) this.setStatus(b, p, st, next);
    }
    this.refreshAvailable(p);
    this.updateHealth();
  }

  /** brokerApply() after the clock advance; m is broker b's mirror. */
  private applyAt(b: number, m: Int32Array, p: number, leader: number, leaderEpoch: number, isrMask: number): void {
    const r = m[p]!;
    const oldLeader = this.refLeader(p, r);
    const changed = oldLeader !== leader || this.refLeaderEpoch(r) !== leaderEpoch || this.refIsr(r) !== isrMask;
    const t = this.truth;
    let next: CacheStatus;
    let ref: number;
    if (leader === t.leader[p] && leaderEpoch === t.leaderEpoch[p] && isrMask === t.isr[p]) {
      next = EQUAL;
      ref = refOf(this.history.headOf(p));
    } else {
      // classifyPast: no state, a committed state of p's history, the initial state, else a phantom.
      const h = leaderEpoch === NO_STATE_EPOCH ? -1 : this.history.find(p, leader, leaderEpoch, isrMask);
      if (leaderEpoch === NO_STATE_EPOCH) {
        next = STALE;
        ref = !changed ? r : leader === -1 && isrMask === 0 ? REF_NONE : refOf(this.history.appendDetached(leader, leaderEpoch, isrMask));
      } else if (h >= 0) {
        next = STALE;
        ref = refOf(h);
      } else if (leader === t.replicas[p * t.rf] && leaderEpoch === 0 && isrMask === this.initialIsr) {
        next = STALE;
        ref = REF_INITIAL;
      } else {
        next = PHANTOM;
        ref = changed ? refOf(this.history.appendDetached(leader, leaderEpoch, isrMask)) : r;
      }
    }
    m[p] = ref;
    if (next === PHANTOM && changed) this.phantomApplies++;
    const st = this.status[b]![p]!;
    if (next !== st) this.setStatus(b, p, st, next);
    if (this.live[b] === 1 && oldLeader !== leader) {
      if (oldLeader === b) this.decSelf(p);
      else if (leader === b) this.incSelf(p);
    }
    if (t.leader[p] === b) this.refreshAvailable(p);
    this.updateHealth();
  }

  /** What the tracker's mirror says broker b's cache holds for p: leader (-1 with no state). */
  cachedLeader(b: number, p: number): number {
    return this.refLeader(p, this.mirrorOf(b)[p]!);
  }

  /** … its leader epoch (NO_STATE_EPOCH with no state). */
  cachedLeaderEpoch(b: number, p: number): number {
    return this.refLeaderEpoch(this.mirrorOf(b)[p]!);
  }

  /** … its ISR bitmask. */
  cachedIsr(b: number, p: number): number {
    return this.refIsr(this.mirrorOf(b)[p]!);
  }

  /** A (re)started broker's cache is empty until it loads metadata: every partition is stale for it. */
  brokerCacheReset(b: number): void {
    this.advance();
    const m = this.mirrorOf(b);
    const P = this.truth.size;
    if (this.live[b] === 1) {
      for (let p = 0; p < P; p++) if (this.refLeader(p, m[p]!) === b) this.decSelf(p);
      this.nDivergent += P - this.divergent[b]!;
      this.nPhantom -= this.phantom[b]!;
    }
    m.fill(REF_NONE);
    this.written[b] = 1;
    this.status[b]!.fill(STALE);
    this.divergent[b] = P;
    this.phantom[b] = 0;
    this.rescanLedBy(b);
    this.updateHealth();
  }

  /** KRaft: unfenced; ZK mode: registered (/brokers/ids/b exists). */
  setBrokerServing(b: number, serving: boolean): void {
    if (b < 0 || b >= this.nBrokers) throw new Error(`ClusterTracker.setBrokerServing: no broker ${b}`);
    const v = serving ? 1 : 0;
    if (this.servingFlags[b] === v) return;
    this.advance();
    this.servingFlags[b] = v;
    this.rescanLedBy(b);
    this.updateHealth();
  }

  /**
   * A node that believes it is (or no longer is) the active controller. `node` is the SimNode or
   * its simulation id (node.id) — not a Kafka broker/controller id. A crash clears the belief; a
   * paused node does not count while paused (it cannot act).
   */
  setControllerActive(node: SimNode | number, active: boolean): void {
    const id = typeof node === 'number' ? node : node.id;
    if (this.sim.nodes[id] === undefined) throw new Error(`ClusterTracker.setControllerActive: no simulation node with id ${id}`);
    if (this.controllerFlags.has(id) === active) return;
    this.advance();
    if (active) this.controllerFlags.add(id);
    else this.controllerFlags.delete(id);
    // A new activation starts loading; a resignation ends both.
    this.readyFlags.delete(id);
    this.sampler?.controller(id, active ? 'active' : 'resigned');
    this.recountControllers();
    this.updateHealth();
  }

  /**
   * The active controller on this node has finished loading and is ready to act (ZK mode:
   * onControllerFailover returned; KRaft: replayed up to its epoch's start). Ignored unless the
   * node is flagged active.
   */
  setControllerReady(node: SimNode | number): void {
    const id = typeof node === 'number' ? node : node.id;
    if (this.sim.nodes[id] === undefined) throw new Error(`ClusterTracker.setControllerReady: no simulation node with id ${id}`);
    if (!this.controllerFlags.has(id) || this.readyFlags.has(id)) return;
    this.advance();
    this.readyFlags.add(id);
    this.sampler?.controller(id, 'ready');
    this.recountControllers();
    this.updateHealth();
  }

  // ---- queries ----

  /** Partitions not available now. */
  get unavailable(): number {
    return this.nUnavailable;
  }

  /** Σ over live brokers of their divergent partitions, now. */
  get totalDivergence(): number {
    return this.nDivergent;
  }

  /** Σ over live brokers of their phantom partitions, now. */
  get totalPhantom(): number {
    return this.nPhantom;
  }

  /** Partitions with two or more live self-believed leaders, now. */
  get dualLeaderPartitions(): number {
    return this.nDualLeaders;
  }

  /** Nodes acting as active controller now (flagged, up, not paused). */
  get activeControllers(): number {
    return this.nActiveControllers;
  }

  /** Active controllers that have finished loading, now. */
  get readyControllers(): number {
    return this.nReadyControllers;
  }

  /** When the run was declared recovered (ms), or null (no verdict, or it was voided). */
  get verdictAtMs(): number | null {
    const us = this.recovery.verdictAtUs;
    return us < 0 ? null : us / 1000;
  }

  get isHealthy(): boolean {
    return this.recovery.healthy;
  }

  statusOf(b: number, p: number): CacheStatus {
    return this.status[b]![p]! as CacheStatus;
  }

  brokerDivergence(b: number): number {
    return this.divergent[b]!;
  }

  brokerPhantoms(b: number): number {
    return this.phantom[b]!;
  }

  isAvailable(p: number): boolean {
    return this.available[p] === 1;
  }

  isLive(b: number): boolean {
    return this.live[b] === 1;
  }

  isServing(b: number): boolean {
    return this.servingFlags[b] === 1;
  }

  selfBelievedLeaders(p: number): number {
    return this.selfLeaders[p]!;
  }

  metrics(): Metrics {
    this.advance();
    this.sampleMaxima();
    const r = this.recovery.figures(this.nDivergent);
    return {
      recoveryMs: r.recoveryMs,
      phases: r.phases,
      unavailablePartitionMs: this.unavailableUs / 1000,
      maxUnavailablePartitions: this.maxUnavailable,
      divergence: { maxPartitions: this.maxBrokerDivergence, partitionMs: this.divergenceUs / 1000, phantomStates: this.phantomApplies, convergedAtMs: r.convergedAtMs },
      splitBrainMs: this.splitBrainUs / 1000,
    };
  }

  extra(): Record<string, number | string | null> {
    this.advance();
    this.sampleMaxima();
    return {
      dualLeaderPartitionsMax: this.maxDualLeaders,
      phantomPartitionsMax: this.maxPhantomLive,
      divergenceTotalMax: this.maxTotalDivergence,
      activeControllersMax: this.maxActiveControllers,
      divergenceAfterFault: this.recovery.figures(this.nDivergent).afterFault,
      healthyAtEnd: this.recovery.healthy ? 'yes' : 'no',
      divergenceAtEnd: this.nDivergent,
      unavailableAtEnd: this.nUnavailable,
      loadingControllersAtEnd: this.nActiveControllers - this.nReadyControllers,
      verdictAtMs: this.verdictAtMs,
    };
  }

  // ---- internals ----

  private onLifecycle(node: { readonly id: number }, event: LifecycleEvent): void {
    const b = this.brokerOfNode.get(node.id);
    const isController = this.controllerFlags.has(node.id);
    if (b === undefined && !isController) return;
    this.advance();
    if (event === 'crash' && isController) {
      this.controllerFlags.delete(node.id);
      this.readyFlags.delete(node.id);
    }
    if (isController) this.recountControllers();
    if (b !== undefined) this.setLive(b, event === 'start' || event === 'resume');
    this.updateHealth();
  }

  private setLive(b: number, live: boolean): void {
    const v = live ? 1 : 0;
    if (this.live[b] === v) return;
    this.live[b] = v;
    const sign = live ? 1 : -1;
    this.nDivergent += sign * this.divergent[b]!;
    this.nPhantom += sign * this.phantom[b]!;
    // One pass over the partitions that can name b leader, in truth or in b's cache; per partition
    // the self-leader count and the availability are independent of each other.
    const m = this.mirror[b]!;
    const history = this.history;
    if (history.count === 0) {
      // Nothing committed or applied yet (a cluster starting): truth is the initial state and each
      // cache holds it or nothing, so only the partitions b leads initially qualify, and for those
      // computeAvailable reduces to: b live and serving, and b's cache holds the initial state
      // (leader b, epoch 0, as truth). The counters are updated as incSelf / decSelf /
      // refreshAvailable would, without their per-partition reads of truth.
      const led = preferredBy(this.layout)[b]!;
      const self = this.selfLeaders;
      const available = this.available;
      const serving = this.servingFlags[b] === 1;
      // A mirror nothing was written to holds the initial state everywhere: it is not read (its
      // untouched pages stay unmapped).
      const pristine = this.written[b] === 0;
      let dual = 0;
      let unavailable = 0;
      for (let k = 0; k < led.length; k++) {
        const p = led[k]!;
        const initial = pristine || m[p] === REF_INITIAL;
        if (initial) {
          if (live) {
            if (++self[p]! === 2) dual++;
          } else if (--self[p]! === 1) dual--;
        }
        const a = live && serving && initial ? 1 : 0;
        if (a !== available[p]) {
          available[p] = a;
          unavailable += a === 1 ? -1 : 1;
        }
      }
      this.nDualLeaders += dual;
      this.nUnavailable += unavailable;
      return;
    }
    // Otherwise the partitions b hosts (a leader is one of p's replicas), unless the history says a
    // leader strayed outside its replicas: then every partition. refLeader is inlined.
    const truthLeader = this.truth.leader;
    const first = initialLeaders(this.layout);
    const parts = history.strayLeader(b) ? null : hostedBy(this.layout)[b]!;
    const n = parts === null ? this.truth.size : parts.length;
    for (let k = 0; k < n; k++) {
      const p = parts === null ? k : parts[k]!;
      const r = m[p]!;
      const cached = r > REF_INITIAL ? history.leaderAt(r - 1) : r === REF_INITIAL ? first[p]! : -1;
      if (cached === b) {
        if (live) this.incSelf(p);
        else this.decSelf(p);
      }
      if (truthLeader[p] === b) this.refreshAvailable(p);
    }
  }

  /** Refreshes the availability of the partitions truth says b leads (see setLive for which are visited). */
  private rescanLedBy(b: number): void {
    const leader = this.truth.leader;
    if (this.history.count === 0) {
      const led = preferredBy(this.layout)[b]!;
      for (let k = 0; k < led.length; k++) this.refreshAvailable(led[k]!);
      return;
    }
    if (this.history.strayLeader(b)) {
      for (let p = 0; p < leader.length; p++) if (leader[p] === b) this.refreshAvailable(p);
      return;
    }
    const parts = hostedBy(this.layout)[b]!;
    for (let k = 0; k < parts.length; k++) {
      const p = parts[k]!;
      if (leader[p] === b) this.refreshAvailable(p);
    }
  }

  private recountControllers(): void {
    let n = 0;
    let ready = 0;
    for (const id of this.controllerFlags) {
      const node = this.sim.nodes[id]!;
      if (!node.up || node.paused) continue;
      n++;
      if (this.readyFlags.has(id)) ready++;
    }
    this.nActiveControllers = n;
    this.nReadyControllers = ready;
  }

  private setStatus(b: number, p: number, from: number, to: CacheStatus): void {
    this.status[b]![p] = to;
    const live = this.live[b] === 1;
    if (from === EQUAL) {
      this.divergent[b]!++;
      if (live) this.nDivergent++;
    } else if (to === EQUAL) {
      this.divergent[b]!--;
      if (live) this.nDivergent--;
    }
    if (from === PHANTOM) {
      this.phantom[b]!--;
      if (live) this.nPhantom--;
    } else if (to === PHANTOM) {
      this.phantom[b]!++;
      if (live) this.nPhantom++;
    }
  }

  private incSelf(p: number): void {
    const n = ++this.selfLeaders[p]!;
    if (n === 2) this.nDualLeaders++;
  }

  private decSelf(p: number): void {
    const n = --this.selfLeaders[p]!;
    if (n === 1) this.nDualLeaders--;
  }

  /** Truth's leader is a live, serving broker whose own cache has that leadership (leader and epoch). */
  private computeAvailable(p: number): boolean {
    const l = this.truth.leader[p]!;
    if (l < 0 || l >= this.nBrokers || this.live[l] !== 1 || this.servingFlags[l] !== 1) return false;
    const r = this.mirror[l]![p]!;
    return this.refLeader(p, r) === l && this.refLeaderEpoch(r) === this.truth.leaderEpoch[p];
  }

  private mirrorOf(b: number): Int32Array {
    const m = this.mirror[b];
    if (m === undefined) throw new Error(`ClusterTracker: no broker ${b}`);
    return m;
  }

  private refLeader(p: number, r: number): number {
    return r > REF_INITIAL ? this.history.leaderAt(r - 1) : r === REF_INITIAL ? this.truth.replicas[p * this.truth.rf]! : -1;
  }

  private refLeaderEpoch(r: number): number {
    return r > REF_INITIAL ? this.history.leaderEpochAt(r - 1) : r === REF_INITIAL ? 0 : NO_STATE_EPOCH;
  }

  private refIsr(r: number): number {
    return r > REF_INITIAL ? this.history.isrAt(r - 1) : r === REF_INITIAL ? this.initialIsr : 0;
  }

  private refreshAvailable(p: number): void {
    const a = this.computeAvailable(p) ? 1 : 0;
    if (a === this.available[p]) return;
    this.available[p] = a;
    this.nUnavailable += a === 1 ? -1 : 1;
  }

  /** Integrates every figure over [lastUs, now) and samples maxima of the state that held there. */
  private advance(): void {
    const now = this.sim.nowUs;
    const dt = now - this.lastUs;
    if (dt <= 0) return;
    this.unavailableUs += this.nUnavailable * dt;
    this.divergenceUs += this.nDivergent * dt;
    if (this.nActiveControllers > 1) this.splitBrainUs += dt;
    this.sampleMaxima();
    // The state that held over [lastUs, now): intermediate counts inside one event do not register.
    this.sampler?.health(this.lastUs, this.nUnavailable, this.divergent, this.phantom, this.live);
    this.lastUs = now;
  }

  private sampleMaxima(): void {
    if (this.nUnavailable > this.maxUnavailable) this.maxUnavailable = this.nUnavailable;
    if (this.nDivergent > this.maxTotalDivergence) this.maxTotalDivergence = this.nDivergent;
    if (this.nPhantom > this.maxPhantomLive) this.maxPhantomLive = this.nPhantom;
    if (this.nDualLeaders > this.maxDualLeaders) this.maxDualLeaders = this.nDualLeaders;
    if (this.nActiveControllers > this.maxActiveControllers) this.maxActiveControllers = this.nActiveControllers;
    if (this.nDivergent > 0) {
      for (let b = 0; b < this.divergent.length; b++) {
        if (this.live[b] === 1 && this.divergent[b]! > this.maxBrokerDivergence) this.maxBrokerDivergence = this.divergent[b]!;
      }
    }
  }

  /**
   * Healthy = exactly one active controller and it has finished loading, every partition
   * available, zero divergence on live brokers. ('tracker.loading-blind': loading or not.)
   */
  private updateHealth(): void {
    const controller = this.nActiveControllers === 1 && (this.loadingBlind || this.nReadyControllers === 1);
    const outage = !controller || this.nUnavailable > 0;
    const healthy = !outage && this.nDivergent === 0;
    // RecoveryWatch.update does nothing when health, outage and whether anything diverges are as
    // in the last call: such calls are left out (most of a batch's states).
    const key = (healthy ? 1 : 0) | (outage ? 2 : 0) | (this.nDivergent > 0 ? 4 : 0);
    if (key === this.lastHealthKey) return;
    this.lastHealthKey = key;
    this.recovery.update(healthy, this.nDivergent, outage);
  }

  /** What updateHealth last handed RecoveryWatch (healthy 1, outage 2, divergent 4), -1 before the first call. */
  private lastHealthKey = -1;

  /** What health lacks now, in one phrase. */
  private describeHealth(): string {
    return `${this.nActiveControllers} active controller(s) (${this.nActiveControllers - this.nReadyControllers} loading), ${this.nUnavailable} unavailable partition(s), ${this.nDivergent} divergent broker-partition(s)`;
  }
}
