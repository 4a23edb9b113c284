import type { LifecycleEvent, SimNode, Simulation, WatchedRecord } from '../../core/index.ts';

/**
 * Time series of one run, kept as change points: a series is (tUs[], value[]) and gets a point only
 * when its value changes; the value holds until the next point (a step function). A value of null
 * means "does not apply now" (a broker that is down has no divergence; a node that is down has no
 * role, session count or epoch to show) and is drawn as a gap.
 *
 * Bounded: when a series would pass MAX_POINTS points it is merged at a resolution (1 ms at first,
 * doubled until the series is at most half full): the points of each window of that width become
 * at most two — the window's first time with the window's *maximum* (so a peak of unavailable
 * partitions or divergence survives any merge, as the figures in `metrics` do) and, when the value
 * the window ends with differs from that maximum, the window's last time with that final value (so
 * the step function after the window is still exact). Series of codes (controller roles) and of
 * epochs use the same rule; they change a few times per fault and never come near the bound.
 *
 * Fed by observers only: the cluster tracker (counts, controller flags), node lifecycle, the fault
 * injector's 'fault' records, and one call per change from the ZooKeeper leader's session tracker
 * and from Raft's quorum state. Nothing here is read back by a model.
 */

/** A series may hold this many points before it is merged (to at most half of it). */
export const MAX_POINTS = 2000;
/** The first merge resolution (µs); doubled until the series fits. */
const FIRST_RESOLUTION_US = 1000;

/** Controller role codes (the `role` series' values); the legend is ROLE_NAMES[code]. */
export const ROLE_DOWN = 0;
export const ROLE_STANDBY = 1;
export const ROLE_LOADING = 2;
export const ROLE_ACTIVE = 3;
export const ROLE_RESIGNED = 4;
export const ROLE_NAMES = ['down', 'standby', 'loading', 'active', 'resigned'] as const;

export class ChangeSeries {
  readonly t: number[] = [];
  readonly v: (number | null)[] = [];
  /** The current merge resolution in µs (0 while nothing was merged). */
  resolutionUs = 0;

  /** The value from tUs on (tUs never decreases). */
  push(tUs: number, value: number | null): void {
    const n = this.t.length;
    if (n > 0) {
      if (this.v[n - 1] === value) return;
      if (this.t[n - 1] === tUs) {
        // Two values at one instant: the later one is what holds.
        if (n > 1 && this.v[n - 2] === value) {
          this.t.pop();
          this.v.pop();
        } else this.v[n - 1] = value;
        return;
      }
    }
    this.t.push(tUs);
    this.v.push(value);
    if (this.t.length > MAX_POINTS) this.compact();
  }

  get last(): number | null | undefined {
    return this.v.length === 0 ? undefined : this.v[this.v.length - 1];
  }

  /** Merges points closer than the resolution, doubling it until at most MAX_POINTS / 2 remain. */
  private compact(): void {
    let res = this.resolutionUs === 0 ? FIRST_RESOLUTION_US : this.resolutionUs * 2;
    for (;;) {
      const { t, v } = mergeAt(this.t, this.v, res);
      if (t.length <= MAX_POINTS / 2) {
        this.t.length = 0;
        this.v.length = 0;
        this.t.push(...t);
        this.v.push(...v);
        this.resolutionUs = res;
        return;
      }
      res *= 2;
    }
  }
}

const above = (a: number | null, b: number | null): boolean => a !== null && (b === null || a > b);

/** One pass of the merge rule above over windows [t0 + k·res, t0 + (k+1)·res). */
export function mergeAt(t: readonly number[], v: readonly (number | null)[], res: number): { t: number[]; v: (number | null)[] } {
  const ot: number[] = [];
  const ov: (number | null)[] = [];
  const emit = (tUs: number, value: number | null): void => {
    const n = ot.length;
    if (n > 0 && ov[n - 1] === value) return;
    ot.push(tUs);
    ov.push(value);
  };
  const t0 = t[0] ?? 0;
  let i = 0;
  while (i < t.length) {
    const w = Math.floor((t[i]! - t0) / res);
    const first = t[i]!;
    let max = v[i]!;
    let j = i + 1;
    while (j < t.length && Math.floor((t[j]! - t0) / res) === w) {
      if (above(v[j]!, max)) max = v[j]!;
      j++;
    }
    const lastT = t[j - 1]!;
    const lastV = v[j - 1]!;
    emit(first, max);
    if (lastV !== max) emit(lastT === first ? first + 1 : lastT, lastV);
    i = j;
  }
  return { t: ot, v: ov };
}

/** A fault as an interval: from its action to the action that ends it (null: still on at the end). */
export interface FaultInterval {
  readonly type: string;
  /** The node acted on, when there is exactly one. */
  readonly node: string | null;
  readonly startUs: number;
  endUs: number | null;
  /** The ending action's type ('restart', 'heal', …), or null. */
  endType: string | null;
  readonly main: boolean;
}

/** Which action ends which: an instant fault (clock-jump, wipe, op …) has no entry and no end. */
const ENDS: Record<string, readonly string[]> = {
  crash: ['restart'],
  pause: ['resume'],
  partition: ['heal', 'heal-all'],
  'link-fault': ['clear-link-faults', 'heal-all'],
  clog: ['unclog', 'heal-all'],
  'clock-rate': ['clock-rate'],
};
const INSTANT = new Set(['clock-jump', 'clock-offset', 'lose-unsynced', 'wipe', 'op']);

/** What the cluster tracker reports (sim/cluster/tracker.ts calls these; all optional for it). */
export interface TrackerSampler {
  /** The broker nodes, in broker-index order, once at construction. */
  brokers(nodes: readonly { readonly id: number }[]): void;
  /** The counts that held from fromUs until the next call (only live brokers' divergence counts). */
  health(fromUs: number, unavailable: number, divergent: Int32Array, phantom: Int32Array, live: Uint8Array): void;
  /** A node's belief: it became the active controller, finished loading, or stopped being one. */
  controller(nodeId: number, what: 'active' | 'ready' | 'resigned'): void;
}

interface NodeState {
  up: boolean;
  paused: boolean;
  active: boolean;
  ready: boolean;
  resigned: boolean;
}

/** The JSON form (`series` of a run in `sim run --json --series`); times in virtual ms. */
export interface SeriesPoints {
  tMs: number[];
  v: (number | null)[];
  /** The merge resolution in ms (0: every change point is kept). */
  resolutionMs: number;
}
export interface SeriesJson {
  endMs: number;
  maxPoints: number;
  roleNames: readonly string[];
  unavailable: SeriesPoints;
  brokers: { node: string; stale: SeriesPoints; phantom: SeriesPoints }[];
  controllers: { node: string; role: SeriesPoints }[];
  zkSessions: { node: string; sessions: SeriesPoints }[];
  raftEpochs: { node: string; epoch: SeriesPoints }[];
  faults: { type: string; node: string | null; startMs: number; endMs: number | null; endType: string | null; main: boolean }[];
}

/** The recorder of one run. Attach it before the scenario is built (attachSeries). */
export class RunSeries implements TrackerSampler {
  readonly unavailable = new ChangeSeries();
  private brokerNodes: readonly { readonly id: number }[] = [];
  private stale: ChangeSeries[] = [];
  private phantom: ChangeSeries[] = [];
  private readonly nodeState = new Map<number, NodeState>();
  /** Lifecycle of every node, from the start: [tUs, up] changes (few), to back-fill a role series. */
  private readonly life = new Map<number, [number, boolean][]>();
  private readonly roles = new Map<number, ChangeSeries>();
  private readonly sessions = new Map<number, ChangeSeries>();
  private readonly epochs = new Map<number, ChangeSeries>();
  private readonly lastSessions = new Map<number, number>();
  private readonly lastEpoch = new Map<number, number>();
  readonly faults: FaultInterval[] = [];

  constructor(private readonly sim: Simulation) {
    sim.onLifecycle((node, event) => this.lifecycle(node, event));
    sim.faults.watch({ kind: 'fault' }, (r) => this.fault(r));
  }

  // ---- TrackerSampler ----

  brokers(nodes: readonly { readonly id: number }[]): void {
    this.brokerNodes = nodes;
    this.stale = nodes.map(() => new ChangeSeries());
    this.phantom = nodes.map(() => new ChangeSeries());
  }

  health(fromUs: number, unavailable: number, divergent: Int32Array, phantom: Int32Array, live: Uint8Array): void {
    this.unavailable.push(fromUs, unavailable);
    for (let b = 0; b < this.stale.length; b++) {
      const on = live[b] === 1;
      this.stale[b]!.push(fromUs, on ? divergent[b]! - phantom[b]! : null);
      this.phantom[b]!.push(fromUs, on ? phantom[b]! : null);
    }
  }

  controller(nodeId: number, what: 'active' | 'ready' | 'resigned'): void {
    const s = this.stateOf(nodeId);
    if (what === 'active') {
      s.active = true;
      s.ready = false;
      s.resigned = false;
    } else if (what === 'ready') {
      if (s.active) s.ready = true;
    } else {
      if (s.active) s.resigned = true;
      s.active = false;
      s.ready = false;
    }
    this.role(nodeId, s);
  }

  // ---- what models report (one call where the value changes) ----

  /** ZooKeeper: the sessions the leader's session tracker on this server tracks (0 when it does not lead). */
  zkSessions(node: SimNode, n: number): void {
    if (this.lastSessions.get(node.id) === n) return;
    this.lastSessions.set(node.id, n);
    let s = this.sessions.get(node.id);
    if (s === undefined) this.sessions.set(node.id, (s = new ChangeSeries()));
    s.push(this.sim.nowUs, node.up ? n : null);
  }

  /** Raft: a voter's current epoch (KRaft controllers). */
  raftEpoch(node: SimNode, epoch: number): void {
    if (this.lastEpoch.get(node.id) === epoch) return;
    this.lastEpoch.set(node.id, epoch);
    let s = this.epochs.get(node.id);
    if (s === undefined) this.epochs.set(node.id, (s = new ChangeSeries()));
    s.push(this.sim.nowUs, node.up ? epoch : null);
  }

  // ---- observers ----

  private lifecycle(node: SimNode, event: LifecycleEvent): void {
    const id = node.id;
    const up = event === 'start' || event === 'resume';
    let l = this.life.get(id);
    if (l === undefined) this.life.set(id, (l = []));
    l.push([this.sim.nowUs, up]);
    const s = this.nodeState.get(id);
    if (s !== undefined) {
      // Only a crash ends a belief: a start's factory may already have activated the node (warm start).
      if (event === 'crash') {
        s.active = false;
        s.ready = false;
        s.resigned = false;
      }
      s.up = node.up;
      s.paused = node.paused;
      if (this.roles.has(id)) this.role(id, s);
    }
    const now = this.sim.nowUs;
    const down = !node.up || node.paused;
    // A crashed ZooKeeper server tracks no sessions when it comes back, until it leads again (its
    // start may already have reported a count: the factory runs before the 'start' event).
    if (event === 'crash' && this.lastSessions.has(id)) this.lastSessions.set(id, 0);
    const sess = this.sessions.get(id);
    if (sess !== undefined) sess.push(now, down ? null : (this.lastSessions.get(id) ?? 0));
    const ep = this.epochs.get(id);
    if (ep !== undefined) ep.push(now, down ? null : (this.lastEpoch.get(id) ?? 0));
  }

  private fault(r: WatchedRecord): void {
    const type = r.label;
    const node = r.node?.name ?? null;
    const endsWhat = Object.entries(ENDS).filter(([, enders]) => enders.includes(type)).map(([k]) => k);
    let closed = false;
    for (const f of this.faults) {
      if (f.endUs !== null || !endsWhat.includes(f.type)) continue;
      // heal, heal-all, clear-link-faults end every open one; restart/resume/unclog/clock-rate end the same node's.
      if (type === 'heal' || type === 'heal-all' || type === 'clear-link-faults' || f.node === null || f.node === node) {
        f.endUs = r.atUs;
        f.endType = type;
        closed = true;
      }
    }
    // An ending action is not a fault of its own; a clock-rate that ends one sets the rate back.
    const opens = (ENDS[type] !== undefined && !(type === 'clock-rate' && closed)) || INSTANT.has(type);
    if (opens) this.faults.push({ type, node, startUs: r.atUs, endUs: INSTANT.has(type) ? r.atUs : null, endType: null, main: r.value === 1 });
  }

  private stateOf(id: number): NodeState {
    let s = this.nodeState.get(id);
    if (s === undefined) {
      const n = this.sim.nodes[id]!;
      s = { up: n.up, paused: n.paused, active: false, ready: false, resigned: false };
      this.nodeState.set(id, s);
    }
    return s;
  }

  private role(id: number, s: NodeState, now = true): void {
    let series = this.roles.get(id);
    if (series === undefined) {
      series = new ChangeSeries();
      this.roles.set(id, series);
      // Before it first acted as controller the node was a standby whenever it was up.
      let up = true;
      let first = true;
      for (const [tUs, u] of this.life.get(id) ?? []) {
        if (first && tUs > 0) series.push(0, ROLE_STANDBY);
        first = false;
        up = u;
        series.push(tUs, up ? ROLE_STANDBY : ROLE_DOWN);
      }
      if (first && this.sim.nowUs > 0) series.push(0, ROLE_STANDBY);
    }
    if (!now) return;
    const code = !s.up || s.paused ? ROLE_DOWN : s.active ? (s.ready ? ROLE_ACTIVE : ROLE_LOADING) : s.resigned ? ROLE_RESIGNED : ROLE_STANDBY;
    series.push(this.sim.nowUs, code);
  }

  // ---- output ----

  /** The series up to endUs, in virtual ms, nodes by name (sorted by node id). */
  toJson(endUs: number): SeriesJson {
    // Every Raft voter (a KRaft controller) gets a role row, also one that never became active.
    for (const id of this.epochs.keys()) if (!this.roles.has(id)) this.role(id, this.stateOf(id), false);
    const ms = (s: ChangeSeries): SeriesPoints => ({ tMs: s.t.map((t) => t / 1000), v: [...s.v], resolutionMs: s.resolutionUs / 1000 });
    const name = (id: number): string => this.sim.nodes[id]!.name;
    const byId = <T>(m: Map<number, T>): [number, T][] => [...m.entries()].sort((a, b) => a[0] - b[0]);
    return {
      endMs: endUs / 1000,
      maxPoints: MAX_POINTS,
      roleNames: ROLE_NAMES,
      unavailable: ms(this.unavailable),
      brokers: this.brokerNodes.map((n, b) => ({ node: this.sim.nodes[n.id]!.name, stale: ms(this.stale[b]!), phantom: ms(this.phantom[b]!) })),
      controllers: byId(this.roles).map(([id, s]) => ({ node: name(id), role: ms(s) })),
      zkSessions: byId(this.sessions).map(([id, s]) => ({ node: name(id), sessions: ms(s) })),
      raftEpochs: byId(this.epochs).map(([id, s]) => ({ node: name(id), epoch: ms(s) })),
      faults: this.faults.map((f) => ({ type: f.type, node: f.node, startMs: f.startUs / 1000, endMs: f.endUs === null ? null : f.endUs / 1000, endType: f.endType, main: f.main })),
    };
  }
}

/**
 * The recorder hangs on the Simulation under a registered symbol, not in a module-level map: a
 * scenario file is imported through its own loader (sim/load.ts), so the model code it pulls in
 * may be a second copy of this module; the Simulation object is the one thing both copies share.
 */
const KEY = Symbol.for('kraftsim.series');

/** Starts recording the series of this run (before the scenario is built). */
export function attachSeries(sim: Simulation): RunSeries {
  const s = new RunSeries(sim);
  Object.defineProperty(sim, KEY, { value: s, enumerable: false });
  return s;
}

/** The run's recorder, or undefined when series are off (the default). */
export function seriesOf(sim: object): RunSeries | undefined {
  return (sim as unknown as Record<symbol, RunSeries | undefined>)[KEY];
}
