import { NodeClock } from './clock.ts';
import type { Connection, ConnectionConfig, ConnRef } from './network.ts';
import type { Rng } from './rng.ts';
import type { EventAction, EventFn, Simulation } from './sim.ts';
import { DurableStore } from './storage.ts';

/** Every message names its RPC or record type in `type`, as Kafka and ZooKeeper name them. */
export interface Message {
  readonly type: string;
}

/** The volatile part of a node: built by its factory at start and restart, discarded by a crash. */
export interface NodeBehavior {
  onMessage(from: SimNode, msg: Message): void;
}

export type NodeFactory = (node: SimNode) => NodeBehavior;

export type ClockKind = 'mono' | 'wall';

interface Task {
  readonly label: string;
  /** Fixed cost in µs, or -1 when `plan` computes it as the task starts. */
  readonly costUs: number;
  readonly plan: (() => number) | null;
  readonly fn: EventFn | null;
  /** A blocking task: the executor waits after it until `resume` is called. */
  readonly blocking: ((resume: () => void) => void) | null;
}

/**
 * A named serial executor (a thread with a queue): the ZK-mode controller's event thread, a
 * broker's request handler, a send thread. Each task declares its cost in µs; its effects happen
 * when it completes, and later tasks wait behind it. This is how O(partitions) work becomes time.
 *
 * Two variants for work whose size depends on the state the thread finds when it gets to it:
 * `submitPlanned` computes the cost when the task starts (after every earlier task's effects),
 * not when it is queued; `submitBlocking` also keeps the thread waiting after the CPU part until
 * the task calls `resume` — a thread blocked on I/O it issued to another executor (the disk).
 */
export class Executor {
  private queue: Task[] = [];
  private head = 0;
  private running = false;
  /** Bumped by reset(): a resume from before a crash must not restart the queue. */
  private generation = 0;
  /** Total µs of work completed, for utilisation figures. */
  busyUs = 0;
  maxQueued = 0;

  constructor(
    private readonly node: SimNode,
    readonly name: string,
  ) {}

  get queued(): number {
    return this.queue.length - this.head;
  }

  get idle(): boolean {
    return !this.running;
  }

  submit(label: string, costUs: number, fn: EventFn): void {
    if (!(costUs >= 0)) throw new Error(`Executor ${this.name}: cost must be >= 0 µs, got ${costUs}`);
    this.enqueue({ label, costUs, plan: null, fn, blocking: null });
  }

  /** A task whose cost `plan()` computes when the executor starts it; `fn` runs that long after. */
  submitPlanned(label: string, plan: () => number, fn: EventFn): void {
    this.enqueue({ label, costUs: -1, plan, fn, blocking: null });
  }

  /**
   * A task whose cost `plan()` computes when it starts; when that CPU time has passed, `fn(resume)`
   * runs and the executor starts nothing else until `resume()` is called (once; later calls, and
   * calls after a crash reset the executor, do nothing).
   */
  submitBlocking(label: string, plan: () => number, fn: (resume: () => void) => void): void {
    this.enqueue({ label, costUs: -1, plan, fn: null, blocking: fn });
  }

  private enqueue(task: Task): void {
    this.queue.push(task);
    const q = this.queue.length - this.head;
    if (q > this.maxQueued) this.maxQueued = q;
    if (!this.running) this.startNext();
  }

  private startNext(): void {
    const task = this.queue[this.head];
    if (task === undefined) {
      this.running = false;
      this.queue = [];
      this.head = 0;
      return;
    }
    this.running = true;
    const costUs = task.plan === null ? task.costUs : task.plan();
    if (!(costUs >= 0)) throw new Error(`Executor ${this.name}: cost of ${task.label} must be >= 0 µs, got ${costUs}`);
    const generation = this.generation;
    this.node.after(Math.round(costUs), () => {
      this.head++;
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      this.busyUs += costUs;
      // The executor's name is the record's detail: not hashed, written to --trace and seen by sinks.
      this.node.sim.trace.record(this.node.sim.nowUs, 'exec', this.node.id, -1, task.label, costUs, this.name);
      if (task.blocking === null) {
        task.fn!();
        this.startNext();
        return;
      }
      let resumed = false;
      task.blocking(() => {
        if (resumed || generation !== this.generation) return;
        resumed = true;
        this.startNext();
      });
    });
  }

  /** A crash loses the queue. */
  reset(): void {
    this.queue = [];
    this.head = 0;
    this.running = false;
    this.generation++;
  }
}

export class SimNode {
  up = false;
  paused = false;
  /** Bumped by every crash: events bound to an older incarnation are dropped. */
  incarnation = 0;
  readonly clock = new NodeClock();
  readonly store = new DurableStore();
  readonly rng: Rng;
  behavior: NodeBehavior | null = null;
  /** Events that came due while paused, run in order on resume. */
  deferred: EventAction[] = [];
  private executors = new Map<string, Executor>();
  private pausedAtUs = 0;

  constructor(
    readonly sim: Simulation,
    readonly id: number,
    readonly name: string,
    private readonly factory: NodeFactory,
  ) {
    this.rng = sim.rng.fork(`node/${name}`);
  }

  get monoNowUs(): number {
    return this.clock.monoAt(this.sim.nowUs);
  }

  get wallNowUs(): number {
    return this.clock.wallAt(this.sim.nowUs);
  }

  /** Runs fn after delayUs of virtual time, unless this node crashes first; late if it is paused. */
  after(delayUs: number, fn: EventFn): number {
    return this.sim.at(this.sim.nowUs + delayUs, fn, this);
  }

  /**
   * Sends a message. A response goes back on the connection its request came in on (`via`, or the
   * one the network remembers for that request type); anything else on the plain link.
   */
  send<M extends Message>(to: SimNode, msg: M, sizeBytes: number, via?: ConnRef | null): void {
    this.sim.net.send(this, to, msg, sizeBytes, via);
  }

  /** This node's connection named `name` to `server` (a Kafka client's NetworkClient entry for it). */
  connection(server: SimNode, name: string, config?: ConnectionConfig): Connection {
    return this.sim.net.connection(this, server, name, config);
  }

  /** The connection the message being handled arrived on (null for a plain-link message). */
  get inboundConnection(): ConnRef | null {
    return this.sim.net.inboundConnection;
  }

  /**
   * A timer set in this node's local time; drift and pauses move it, as they move a real one.
   * It lives in an event slot of the simulation (no object per timer); its id is that slot's
   * handle, so a stale id (fired, cancelled, or its slot reused) cancels nothing.
   */
  setTimer(label: string, delayUs: number, fn: EventFn, kind: ClockKind = 'mono'): number {
    const clock = this.clock;
    const sim = this.sim;
    const now = sim.nowUs;
    if (kind === 'mono' && clock.driftRate === 1) {
      // Fast path: at rate 1 the local deadline is reached delayUs from now. Rounded up: a timer
      // never fires before its local deadline (a fractional delay rounded down re-arms forever).
      return sim.setTimer(this, label, fn, false, clock.monoAt(now) + delayUs, now + (delayUs > 0 ? Math.ceil(delayUs) : 0));
    }
    const localDeadlineUs = (kind === 'mono' ? clock.monoAt(now) : clock.wallAt(now)) + delayUs;
    const realUs = kind === 'mono' ? clock.realAtMono(localDeadlineUs) : clock.realAtWall(localDeadlineUs);
    return sim.setTimer(this, label, fn, kind === 'wall', localDeadlineUs, realUs > now ? realUs : now);
  }

  cancelTimer(id: number): void {
    this.sim.cancelTimer(this, id);
  }

  hasTimer(id: number): boolean {
    return this.sim.hasTimer(this, id);
  }

  /** Re-maps pending timers after this node's clock changed, in the order they were set. */
  private remapTimers(kinds: 'all' | 'wall'): void {
    this.sim.remapTimers(this, kinds === 'wall');
  }

  executor(name: string): Executor {
    let e = this.executors.get(name);
    if (e === undefined) {
      e = new Executor(this, name);
      this.executors.set(name, e);
    }
    return e;
  }

  /**
   * Writes `sizeBytes` and fsyncs on this node's disk, then calls `then`: what was pending when the
   * fsync started becomes durable when it completes. Disk work is serial, like a log directory's.
   */
  fsync(label: string, sizeBytes: number, then?: EventFn): void {
    const point = this.store.syncPoint();
    const disk = this.sim.disk;
    const costUs = disk.fsyncUs + (sizeBytes * 1e6) / disk.writeBytesPerSec;
    this.executor('disk').submit(label, costUs, () => {
      this.store.completeSync(point);
      if (then !== undefined) then();
    });
  }

  /** Holds an event that came due while paused, to run on resume. */
  defer(fn: EventAction): void {
    this.deferred.push(fn);
  }

  /** A model-reported state change, into the trace (and its hash). */
  note(key: string, value: number, detail?: string): void {
    this.sim.trace.record(this.sim.nowUs, 'state', this.id, -1, key, value, detail);
  }

  // ---- lifecycle, driven by the simulation and its faults ----

  start(): void {
    if (this.up) throw new Error(`node ${this.name} is already up`);
    this.up = true;
    this.paused = false;
    this.behavior = this.factory(this);
  }

  crash(loseUnsynced = true): void {
    if (!this.up) return;
    this.up = false;
    this.paused = false;
    this.incarnation++;
    this.sim.net.nodeDown(this);
    this.behavior = null;
    this.deferred = [];
    this.sim.dropTimers(this);
    for (const e of this.executors.values()) e.reset();
    this.executors.clear();
    if (loseUnsynced) this.store.loseUnsynced();
  }

  pause(): void {
    if (!this.up || this.paused) return;
    this.paused = true;
    this.pausedAtUs = this.sim.nowUs;
  }

  /** Resumes; returns how long the node was paused (µs). Due events run now, in their order. */
  resume(): number {
    if (!this.up || !this.paused) return 0;
    this.paused = false;
    const due = this.deferred;
    this.deferred = [];
    for (const fn of due) this.sim.at(this.sim.nowUs, fn, this);
    return this.sim.nowUs - this.pausedAtUs;
  }

  setClockRate(rate: number): void {
    this.clock.setRate(this.sim.nowUs, rate);
    this.remapTimers('all');
  }

  jumpWallClock(deltaUs: number): void {
    this.clock.jumpWall(deltaUs);
    this.remapTimers('wall');
  }

  setWallOffset(offsetUs: number): void {
    this.clock.setWallOffset(offsetUs);
    this.remapTimers('wall');
  }
}
