import { EventHeap } from './heap.ts';
import { FaultInjector, type FaultPlan } from './faults.ts';
import { DEFAULT_LINK, Network, type LinkProfile } from './network.ts';
import { SimNode, type NodeFactory } from './node.ts';
import { Properties } from './properties.ts';
import { Rng } from './rng.ts';
import { Trace } from './trace.ts';

export type EventFn = () => void;

/**
 * An event that is an object with a run method rather than a closure: node timers are re-armed
 * millions of times, and a pooled object allocates nothing where a closure per arm would.
 */
export interface EventTask {
  run(): void;
}

export type EventAction = EventFn | EventTask;

export type LifecycleEvent = 'start' | 'crash' | 'pause' | 'resume';
/** Observers of node lifecycle (metrics trackers); they run inside the event that caused it. */
export type LifecycleListener = (node: SimNode, event: LifecycleEvent) => void;

/** Disk of every node: sequential write bandwidth and the latency of one fsync. */
export interface DiskProfile {
  writeBytesPerSec: number;
  fsyncUs: number;
}

export const DEFAULT_DISK: DiskProfile = { writeBytesPerSec: 500e6, fsyncUs: 1000 };

export interface SimOptions {
  readonly seed: string | number;
  readonly link?: Partial<LinkProfile>;
  readonly disk?: Partial<DiskProfile>;
}

export interface RunLimits {
  /** Stop when the next event is later than this (µs); liveness still pending may hold the run open. */
  readonly untilUs: number;
  /** Stop after this many events. */
  readonly maxEvents?: number;
  /** Called every `progressEvery` events with the current virtual time, for progress output. */
  readonly onProgress?: (nowUs: number, events: number) => void;
  readonly progressEvery?: number;
  /**
   * Stop with reason 'stalled' after this many events in a row at the same virtual time (a timer or
   * message loop with zero delay: the run would never end). Default DEFAULT_MAX_STALLED_EVENTS.
   */
  readonly maxStalledEvents?: number;
}

/**
 * Events in a row at one instant before a run counts as stalled. Why 5,000,000: the largest burst at
 * one instant measured in the shipped scenarios is under 1,024 events (zombie-controller; the others
 * under 256, controller-failover at 2M partitions included), so this is thousands of times any real
 * burst, and at the kernel's 1-2 M events/s it trips within a few seconds of wall time.
 */
export const DEFAULT_MAX_STALLED_EVENTS = 5_000_000;

export type StopReason = 'quiescent' | 'time-limit' | 'event-limit' | 'violation' | 'stopped' | 'stalled';

export interface RunOutcome {
  readonly reason: StopReason;
  readonly detail: string;
  readonly nowUs: number;
  readonly events: number;
}

const SLOTS = 4_194_304; // 2^22 live events; a handle is gen * SLOTS + slot

/** What a slot holds (its kind word): a plain event, or a node timer on its monotonic or wall clock. */
const KIND_EVENT = 0;
const KIND_MONO_TIMER = 1;
const KIND_WALL_TIMER = 2;

/**
 * Per slot, 32 bytes side by side in one buffer (two slots to a cache line), read as eight 32-bit
 * words and as four float64s: words 0-3 the bound node's index + 1 (0: no node), the node's
 * incarnation when the event was scheduled, the slot's generation, its kind; float 2 the heap
 * sequence of its live entry (-1: the slot is free); float 3 a timer's deadline on its node's clock.
 */
const SLOT_WORDS = 8;
const SLOT_FLOATS = 4;

/** A node timer whose event came due while its node was paused: it fires on resume unless dropped, re-armed or cancelled meanwhile. */
class DeferredTimer implements EventTask {
  constructor(
    private readonly sim: Simulation,
    private readonly slot: number,
    private readonly gen: number,
    private readonly seq: number,
  ) {}

  run(): void {
    this.sim.fireDeferredTimer(this.slot, this.gen, this.seq);
  }
}

/**
 * The deterministic kernel: one event queue ordered by (time, insertion sequence) over integer
 * microseconds, and the nodes, network, faults, properties and trace of one run. Single-threaded;
 * same seed and same code give the same trace hash.
 */
export class Simulation {
  nowUs = 0;
  readonly seed: string;
  readonly rng: Rng;
  readonly trace = new Trace();
  readonly net: Network;
  readonly props: Properties;
  readonly faults: FaultInjector;
  readonly disk: DiskProfile;
  readonly nodes: SimNode[] = [];
  private readonly byName = new Map<string, SimNode>();
  private readonly heap = new EventHeap(4096);
  /** Per slot, two entries side by side: the action (a timer's callback) and a timer's label. */
  private readonly objs: (EventAction | string | null)[] = [];
  private slotBuf = new ArrayBuffer(4096 * SLOT_WORDS * 4);
  private slotWords = new Uint32Array(this.slotBuf);
  private slotFloats = new Float64Array(this.slotBuf);
  /**
   * The order a timer was set in is the heap sequence of its first arming, which its slot holds
   * until a clock change re-maps it; a re-mapped timer's order is kept here, by slot.
   */
  private readonly remappedOrder = new Map<number, number>();
  private freeSlots: number[] = [];
  private nextSlot = 0;
  private seq = 0;
  eventsRun = 0;
  /** Events run in a row at the current virtual time (the no-progress watchdog's count). */
  private stalledEvents = 0;
  private stopRequest: string | null = null;
  private readonly lifecycle: LifecycleListener[] = [];

  constructor(opts: SimOptions) {
    this.seed = String(opts.seed);
    this.rng = new Rng(this.seed);
    this.net = new Network(this, { ...DEFAULT_LINK, ...opts.link });
    this.disk = { ...DEFAULT_DISK, ...opts.disk };
    this.props = new Properties(this);
    this.faults = new FaultInjector(this);
  }

  // ---- scheduling ----

  /** Schedules fn at atUs (>= now). Bound to a node, it is dropped if the node crashes and waits while it is paused. */
  at(atUs: number, fn: EventAction, node: SimNode | null = null): number {
    if (!(atUs >= this.nowUs)) throw new Error(`Simulation.at: ${atUs} µs is in the past (now ${this.nowUs} µs)`);
    const slot = this.takeSlot();
    this.objs[2 * slot] = fn;
    const w = this.slotWords;
    const m = SLOT_WORDS * slot;
    if (node === null) {
      w[m] = 0;
    } else {
      w[m] = node.id + 1;
      w[m + 1] = node.incarnation;
    }
    w[m + 3] = KIND_EVENT;
    const seq = this.seq++;
    this.slotFloats[SLOT_FLOATS * slot + 2] = seq;
    this.heap.push(Math.round(atUs), seq, slot);
    return w[m + 2]! * SLOTS + slot;
  }

  after(delayUs: number, fn: EventFn): number {
    return this.at(this.nowUs + delayUs, fn);
  }

  /** Cancels a pending event (a no-op for one that ran, was cancelled, or whose slot was reused). Its heap entry is skipped when popped. */
  cancel(handle: number): void {
    if (handle < 0) return;
    const slot = handle % SLOTS;
    if (slot >= this.nextSlot) return;
    if (this.slotWords[SLOT_WORDS * slot + 2] === (handle - slot) / SLOTS && this.slotFloats[SLOT_FLOATS * slot + 2]! >= 0) this.freeSlot(slot);
  }

  private takeSlot(): number {
    let slot = this.freeSlots.pop();
    if (slot === undefined) {
      slot = this.nextSlot++;
      if (slot >= SLOTS) throw new Error(`Simulation.at: more than ${SLOTS} pending events`);
      if (SLOT_WORDS * slot >= this.slotWords.length) this.growSlots();
      this.objs.push(null, '');
    }
    return slot;
  }

  private freeSlot(slot: number): void {
    this.slotFloats[SLOT_FLOATS * slot + 2] = -1;
    this.slotWords[SLOT_WORDS * slot + 2]!++;
    this.objs[2 * slot] = null;
    this.freeSlots.push(slot);
  }

  private growSlots(): void {
    const buf = new ArrayBuffer(this.slotBuf.byteLength * 2);
    new Uint8Array(buf).set(new Uint8Array(this.slotBuf));
    this.slotBuf = buf;
    this.slotWords = new Uint32Array(buf);
    this.slotFloats = new Float64Array(buf);
  }

  // ---- node timers, which live in event slots: a timer's id is its slot's handle ----

  /**
   * Sets a timer of `node` due at virtual time atUs (>= now), with its deadline on the node's own
   * clock (`wall`: the wall clock, else the monotonic one) kept for re-mapping. Returns its id.
   */
  setTimer(node: SimNode, label: string, fn: EventFn, wall: boolean, localDeadlineUs: number, atUs: number): number {
    if (!(atUs >= this.nowUs)) throw new Error(`Simulation.setTimer: ${atUs} µs is in the past (now ${this.nowUs} µs)`);
    const slot = this.takeSlot();
    const objs = this.objs;
    objs[2 * slot] = fn;
    objs[2 * slot + 1] = label;
    const w = this.slotWords;
    const f = this.slotFloats;
    const m = SLOT_WORDS * slot;
    w[m] = node.id + 1;
    w[m + 1] = node.incarnation;
    w[m + 3] = wall ? KIND_WALL_TIMER : KIND_MONO_TIMER;
    const seq = this.seq++;
    f[SLOT_FLOATS * slot + 2] = seq;
    f[SLOT_FLOATS * slot + 3] = localDeadlineUs;
    if (this.remappedOrder.size !== 0) this.remappedOrder.delete(slot);
    this.heap.push(Math.round(atUs), seq, slot);
    return w[m + 2]! * SLOTS + slot;
  }

  /** The slot of `node`'s pending timer `id`, or -1 (fired, cancelled, dropped by a crash, or not its timer). */
  private timerSlot(node: SimNode, id: number): number {
    if (!(id >= 0)) return -1;
    const slot = id % SLOTS;
    if (slot >= this.nextSlot) return -1;
    const w = this.slotWords;
    const m = SLOT_WORDS * slot;
    if (w[m + 2] !== (id - slot) / SLOTS || w[m + 3] === KIND_EVENT || w[m] !== node.id + 1) return -1;
    return this.slotFloats[SLOT_FLOATS * slot + 2]! >= 0 ? slot : -1;
  }

  hasTimer(node: SimNode, id: number): boolean {
    return this.timerSlot(node, id) >= 0;
  }

  cancelTimer(node: SimNode, id: number): void {
    const slot = this.timerSlot(node, id);
    if (slot >= 0) this.freeSlot(slot);
  }

  /** The slots of `node`'s pending timers (wall timers only if `wallOnly`), in the order they were set. */
  private timersOf(node: SimNode, wallOnly: boolean): number[] {
    const w = this.slotWords;
    const f = this.slotFloats;
    const want = node.id + 1;
    const out: number[] = [];
    for (let slot = 0; slot < this.nextSlot; slot++) {
      const m = SLOT_WORDS * slot;
      const kind = w[m + 3]!;
      if (kind === KIND_EVENT || w[m] !== want || f[SLOT_FLOATS * slot + 2]! < 0) continue;
      if (wallOnly && kind !== KIND_WALL_TIMER) continue;
      out.push(slot);
    }
    return out.sort((a, b) => this.timerOrderOf(a) - this.timerOrderOf(b));
  }

  private timerOrderOf(slot: number): number {
    return this.remappedOrder.get(slot) ?? this.slotFloats[SLOT_FLOATS * slot + 2]!;
  }

  /**
   * Re-maps `node`'s pending timers to virtual time after its clock changed, in the order they were
   * set: each keeps its id and gets a new heap entry (the old one is skipped when popped).
   */
  remapTimers(node: SimNode, wallOnly: boolean): void {
    const clock = node.clock;
    for (const slot of this.timersOf(node, wallOnly)) {
      const local = this.slotFloats[SLOT_FLOATS * slot + 3]!;
      const realUs = this.slotWords[SLOT_WORDS * slot + 3] === KIND_WALL_TIMER ? clock.realAtWall(local) : clock.realAtMono(local);
      this.remappedOrder.set(slot, this.timerOrderOf(slot));
      const seq = this.seq++;
      this.slotFloats[SLOT_FLOATS * slot + 2] = seq;
      this.heap.push(Math.round(realUs > this.nowUs ? realUs : this.nowUs), seq, slot);
    }
  }

  /** Drops every pending timer of `node` (it crashed). */
  dropTimers(node: SimNode): void {
    for (const slot of this.timersOf(node, false)) this.freeSlot(slot);
  }

  /** A deferred timer's firing on resume: it fires if its slot still holds the same arming. */
  fireDeferredTimer(slot: number, gen: number, seq: number): void {
    if (this.slotWords[SLOT_WORDS * slot + 2] !== gen || this.slotFloats[SLOT_FLOATS * slot + 2] !== seq) return;
    const fn = this.objs[2 * slot] as EventFn;
    const label = this.objs[2 * slot + 1] as string;
    this.trace.record(this.nowUs, 'timer', this.slotWords[SLOT_WORDS * slot]! - 1, -1, label, 0);
    this.freeSlot(slot);
    fn();
  }

  get pendingEvents(): number {
    return this.heap.size;
  }

  // ---- nodes ----

  addNode(name: string, factory: NodeFactory, opts: { start?: boolean } = {}): SimNode {
    if (this.byName.has(name)) throw new Error(`duplicate node name ${name}`);
    const node = new SimNode(this, this.nodes.length, name, factory);
    this.nodes.push(node);
    this.byName.set(name, node);
    this.trace.nodeNames.push(name);
    this.net.resize(this.nodes.length);
    if (opts.start !== false) this.at(this.nowUs, () => this.startNode(node));
    return node;
  }

  findNode(name: string): SimNode | undefined {
    return this.byName.get(name);
  }

  node(name: string): SimNode {
    const n = this.byName.get(name);
    if (n === undefined) throw new Error(`no node named ${name}`);
    return n;
  }

  onLifecycle(listener: LifecycleListener): void {
    this.lifecycle.push(listener);
  }

  private emitLifecycle(node: SimNode, event: LifecycleEvent): void {
    this.trace.record(this.nowUs, event, node.id, -1, event, node.incarnation);
    for (const l of this.lifecycle) l(node, event);
  }

  private startNode(node: SimNode): void {
    node.start();
    this.emitLifecycle(node, 'start');
  }

  crash(node: SimNode, loseUnsynced = true): void {
    if (!node.up) return;
    node.crash(loseUnsynced);
    this.emitLifecycle(node, 'crash');
  }

  pause(node: SimNode): void {
    if (!node.up || node.paused) return;
    node.pause();
    this.emitLifecycle(node, 'pause');
  }

  resume(node: SimNode): void {
    if (!node.up || !node.paused) return;
    node.resume();
    this.emitLifecycle(node, 'resume');
  }

  restart(node: SimNode): void {
    if (node.up) return;
    this.startNode(node);
  }

  // ---- running ----

  installFaults(plan: FaultPlan): void {
    this.faults.install(plan);
  }

  stop(reason: string): void {
    if (this.stopRequest === null) this.stopRequest = reason;
  }

  run(limits: RunLimits): RunOutcome {
    const heap = this.heap;
    const nodes = this.nodes;
    const props = this.props;
    const maxEvents = limits.maxEvents ?? Number.MAX_SAFE_INTEGER;
    const progressEvery = limits.progressEvery ?? 1_000_000;
    let nextProgress = this.eventsRun + progressEvery;
    const maxStalled = limits.maxStalledEvents ?? DEFAULT_MAX_STALLED_EVENTS;
    // The no-progress watchdog: events run in a row at the same virtual time.
    // It carries over between calls, so a run driven in slices of events is watched as a whole.
    let stalled = this.stalledEvents;
    const faults = this.faults;
    const trace = this.trace;
    if (faults.hasTriggers || props.hasWatches) {
      trace.listener = (_atUs, kind, node, peer, label, value) => {
        if (faults.hasTriggers) faults.onRecord(kind, node, peer, label, value);
        props.onRecord(kind, label);
      };
    }
    let reason: StopReason = 'quiescent';
    let detail = '';
    // Hot path: the arrays in locals (objs and freeSlots never move; the slot buffer moves only when
    // a schedule grows it, so its views are reloaded after each handler).
    const objs = this.objs;
    const freeSlots = this.freeSlots;
    let words = this.slotWords;
    let floats = this.slotFloats;
    for (;;) {
      if (this.stopRequest !== null) {
        reason = props.violation !== null ? 'violation' : 'stopped';
        detail = this.stopRequest;
        break;
      }
      const t = heap.peekTime();
      if (t === Infinity) {
        reason = 'quiescent';
        break;
      }
      if (t > limits.untilUs) {
        const d = props.pendingLivenessDeadlineUs();
        if (d < 0 || t > d) {
          reason = 'time-limit';
          break;
        }
      }
      if (this.eventsRun >= maxEvents) {
        reason = 'event-limit';
        break;
      }
      const seq = heap.peekSeq();
      const slot = heap.pop();
      // A cancelled event's slot is free (-1) and a re-armed timer's holds a newer entry: skip it.
      if (floats[SLOT_FLOATS * slot + 2] !== seq) continue;
      const m = SLOT_WORDS * slot;
      const nodeIdx = words[m]! - 1;
      const kind = words[m + 3]!;
      const fn = objs[2 * slot] as EventAction;
      if (t !== this.nowUs) stalled = 0;
      else if (++stalled > maxStalled) {
        reason = 'stalled';
        detail = this.stallDetail(maxStalled);
        this.freeSlot(slot);
        break;
      }
      this.nowUs = t;
      if (nodeIdx >= 0) {
        const n = nodes[nodeIdx]!;
        if (!n.up || n.incarnation !== words[m + 1]) {
          this.freeSlot(slot);
          continue;
        }
        if (n.paused) {
          if (kind === KIND_EVENT) {
            this.freeSlot(slot);
            n.defer(fn);
          } else {
            // The timer stays pending in its slot; its firing waits for the resume.
            n.defer(new DeferredTimer(this, slot, words[m + 2]!, seq));
          }
          continue;
        }
      }
      // The slot is free before the action runs (whatever it schedules may reuse it).
      floats[SLOT_FLOATS * slot + 2] = -1;
      words[m + 2]!++;
      objs[2 * slot] = null;
      freeSlots.push(slot);
      this.eventsRun++;
      if (kind !== KIND_EVENT) {
        trace.recordTimer(t, nodeIdx, objs[2 * slot + 1] as string);
        (fn as EventFn)();
      } else if (typeof fn === 'function') fn();
      else fn.run();
      words = this.slotWords;
      floats = this.slotFloats;
      if (props.dirtyCount > 0) props.afterEvent();
      if (this.eventsRun >= nextProgress) {
        nextProgress += progressEvery;
        limits.onProgress?.(this.nowUs, this.eventsRun);
      }
    }
    trace.listener = null;
    this.stalledEvents = stalled;
    return { reason, detail, nowUs: this.nowUs, events: this.eventsRun };
  }

  /** What was looping when the watchdog tripped: the last trace record's node and label. */
  private stallDetail(maxStalled: number): string {
    const tr = this.trace;
    const who = tr.lastNode >= 0 ? `node ${this.nodes[tr.lastNode]?.name ?? tr.lastNode}` : 'no node';
    const what = tr.lastKind === '' ? 'events that record nothing' : `${tr.lastKind} '${tr.lastLabel}'`;
    return `simulated time stopped advancing at ${this.nowUs / 1000} ms: more than ${maxStalled} events in a row at that instant, the last ${what} of ${who}`;
  }
}
