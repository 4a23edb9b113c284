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
  private fns: (EventAction | null)[] = [];
  /**
   * Per slot, four words side by side (one cache line holds four slots): the bound node's index + 1
   * (0: no node), the node's incarnation when the event was scheduled, the slot's generation, unused.
   */
  private slotMeta = new Uint32Array(4 * 4096);
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
    let slot = this.freeSlots.pop();
    if (slot === undefined) {
      slot = this.nextSlot++;
      if (slot >= SLOTS) throw new Error(`Simulation.at: more than ${SLOTS} pending events`);
      if (4 * slot >= this.slotMeta.length) this.growSlots();
    }
    this.fns[slot] = fn;
    const meta = this.slotMeta;
    const m = 4 * slot;
    if (node === null) {
      meta[m] = 0;
    } else {
      meta[m] = node.id + 1;
      meta[m + 1] = node.incarnation;
    }
    this.heap.push(Math.round(atUs), this.seq++, slot);
    return meta[m + 2]! * SLOTS + slot;
  }

  after(delayUs: number, fn: EventFn): number {
    return this.at(this.nowUs + delayUs, fn);
  }

  cancel(handle: number): void {
    if (handle < 0) return;
    const slot = handle % SLOTS;
    if (this.slotMeta[4 * slot + 2] === (handle - slot) / SLOTS) this.fns[slot] = null;
  }

  private growSlots(): void {
    const a = new Uint32Array(this.slotMeta.length * 2);
    a.set(this.slotMeta);
    this.slotMeta = a;
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
    // Hot path: the arrays in locals (fns and freeSlots never move; slotMeta moves only when `at`
    // grows it, so it is reloaded after each handler).
    const fns = this.fns;
    const freeSlots = this.freeSlots;
    let meta = this.slotMeta;
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
      const slot = heap.pop();
      const fn = fns[slot]!;
      const m = 4 * slot;
      const nodeIdx = meta[m]! - 1;
      const inc = meta[m + 1]!;
      fns[slot] = null;
      meta[m + 2]!++;
      freeSlots.push(slot);
      if (fn === null) continue;
      if (t !== this.nowUs) stalled = 0;
      else if (++stalled > maxStalled) {
        reason = 'stalled';
        detail = this.stallDetail(maxStalled);
        break;
      }
      this.nowUs = t;
      if (nodeIdx >= 0) {
        const n = nodes[nodeIdx]!;
        if (!n.up || n.incarnation !== inc) continue;
        if (n.paused) {
          n.defer(fn);
          continue;
        }
      }
      this.eventsRun++;
      if (typeof fn === 'function') fn();
      else fn.run();
      meta = this.slotMeta;
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
