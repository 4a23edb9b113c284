import type { Message, SimNode } from './node.ts';
import type { Rng } from './rng.ts';
import type { Simulation } from './sim.ts';

/** One-way latency and bandwidth of every link (a LAN by default). */
export interface LinkProfile {
  /** One-way base latency, µs. */
  baseLatencyUs: number;
  /** Mean of the exponentially distributed jitter added to each message, µs. */
  jitterMeanUs: number;
  /** Link bandwidth, bytes per second: a message occupies its link for size / bandwidth. */
  bandwidthBytesPerSec: number;
}

export const DEFAULT_LINK: LinkProfile = {
  baseLatencyUs: 250,
  jitterMeanUs: 50,
  bandwidthBytesPerSec: 1.25e9,
};

/** Faults on one direction of a link. */
export interface LinkFault {
  /** Probability that a message is lost (the connection stays up: a lossy middlebox). */
  drop?: number;
  /** Extra one-way delay, µs. */
  delayUs?: number;
  /** Chaos: probability that a message is delivered twice. */
  duplicate?: number;
  /** Chaos: probability that a message skips FIFO order and takes up to `reorderWindowUs` extra. */
  reorder?: number;
  reorderWindowUs?: number;
}

export type PartitionShape =
  | { readonly type: 'symmetric'; readonly a: readonly number[]; readonly b: readonly number[] }
  | { readonly type: 'one-way'; readonly from: readonly number[]; readonly to: readonly number[] }
  | { readonly type: 'isolate'; readonly node: number }
  | { readonly type: 'bridge'; readonly a: readonly number[]; readonly bridge: number; readonly b: readonly number[] }
  | { readonly type: 'majorities-ring'; readonly nodes: readonly number[] }
  | { readonly type: 'groups'; readonly groups: readonly (readonly number[])[] };

const DROP_BLOCKED = 1;
const DROP_LOSS = 2;
const DROP_BROKEN = 3;
const DROP_DOWN = 4;

/**
 * TCP-like connections between every ordered pair of nodes: FIFO per direction, reliable while
 * connected, a message occupying its link for size / bandwidth. A partition breaks a connection:
 * what is in flight is lost and the ends notice only through their own timeouts.
 */
export class Network {
  profile: LinkProfile;
  private n = 0;
  private busyUntilUs = new Float64Array(0);
  private lastArrivalUs = new Float64Array(0);
  private connGen = new Uint32Array(0);
  private blocked = new Uint8Array(0);
  private clogged = new Uint8Array(0);
  private faults = new Map<number, LinkFault>();
  private clogBuffers = new Map<number, (() => void)[]>();
  private readonly rng: Rng;
  /** Messages sent and bytes sent, for figures. */
  messagesSent = 0;
  bytesSent = 0;
  messagesDropped = 0;

  constructor(
    private readonly sim: Simulation,
    profile: LinkProfile,
  ) {
    this.profile = profile;
    this.rng = sim.rng.fork('net');
  }

  /** Grows the link tables to `n` nodes (called as nodes are added). */
  resize(n: number): void {
    if (n <= this.n) return;
    const grow = <T extends Float64Array | Uint32Array | Uint8Array>(old: T, make: (len: number) => T): T => {
      const next = make(n * n);
      for (let i = 0; i < this.n; i++) for (let j = 0; j < this.n; j++) next[i * n + j] = old[i * this.n + j]!;
      return next;
    };
    this.busyUntilUs = grow(this.busyUntilUs, (l) => new Float64Array(l));
    this.lastArrivalUs = grow(this.lastArrivalUs, (l) => new Float64Array(l));
    this.connGen = grow(this.connGen, (l) => new Uint32Array(l));
    this.blocked = grow(this.blocked, (l) => new Uint8Array(l));
    this.clogged = grow(this.clogged, (l) => new Uint8Array(l));
    if (this.faults.size > 0 || this.clogBuffers.size > 0) throw new Error('Network.resize: add every node before injecting link faults');
    this.n = n;
  }

  private link(from: number, to: number): number {
    return from * this.n + to;
  }

  isBlocked(from: number, to: number): boolean {
    return this.blocked[this.link(from, to)] === 1;
  }

  send(from: SimNode, to: SimNode, msg: Message, sizeBytes: number): void {
    const sim = this.sim;
    if (!from.up) return;
    const l = this.link(from.id, to.id);
    this.messagesSent++;
    this.bytesSent += sizeBytes;
    sim.trace.record(sim.nowUs, 'send', from.id, to.id, msg.type, sizeBytes);
    if (this.blocked[l] === 1) {
      this.drop(from.id, to.id, msg, DROP_BLOCKED);
      return;
    }
    const fault = this.faults.size > 0 ? this.faults.get(l) : undefined;
    if (fault?.drop !== undefined && this.rng.bool(fault.drop)) {
      this.drop(from.id, to.id, msg, DROP_LOSS);
      return;
    }
    const deliver = this.deliveryFn(from, to, msg, sizeBytes, l, this.connGen[l]!, to.incarnation);
    if (this.clogged[l] === 1) {
      let buf = this.clogBuffers.get(l);
      if (buf === undefined) this.clogBuffers.set(l, (buf = []));
      buf.push(deliver);
      return;
    }
    this.schedule(l, sizeBytes, fault, deliver);
    if (fault?.duplicate !== undefined && this.rng.bool(fault.duplicate)) this.schedule(l, sizeBytes, fault, deliver);
  }

  private schedule(l: number, sizeBytes: number, fault: LinkFault | undefined, deliver: () => void): void {
    const now = this.sim.nowUs;
    const p = this.profile;
    const start = Math.max(now, this.busyUntilUs[l]!);
    const doneUs = start + Math.ceil((sizeBytes * 1e6) / p.bandwidthBytesPerSec);
    this.busyUntilUs[l] = doneUs;
    let arrival = doneUs + p.baseLatencyUs + Math.round(this.rng.exp(p.jitterMeanUs));
    if (fault?.delayUs !== undefined) arrival += fault.delayUs;
    if (fault?.reorder !== undefined && this.rng.bool(fault.reorder)) {
      arrival += this.rng.int(fault.reorderWindowUs ?? 10_000);
    } else {
      if (arrival < this.lastArrivalUs[l]!) arrival = this.lastArrivalUs[l]!;
      this.lastArrivalUs[l] = arrival;
    }
    this.sim.at(arrival, deliver);
  }

  private deliveryFn(from: SimNode, to: SimNode, msg: Message, sizeBytes: number, l: number, gen: number, inc: number): () => void {
    return () => {
      if (this.connGen[l] !== gen) return this.drop(from.id, to.id, msg, DROP_BROKEN);
      if (!to.up || to.incarnation !== inc) return this.drop(from.id, to.id, msg, DROP_DOWN);
      const sim = this.sim;
      // Bytes that reached the receiver's socket are processed when it runs again.
      const run = (): void => {
        if (to.behavior === null) return;
        sim.trace.record(sim.nowUs, 'deliver', to.id, from.id, msg.type, sizeBytes);
        to.behavior.onMessage(from, msg);
      };
      if (to.paused) to.deferred.push(run);
      else run();
    };
  }

  private drop(from: number, to: number, msg: Message, reason: number): void {
    this.messagesDropped++;
    this.sim.trace.record(this.sim.nowUs, 'drop', from, to, msg.type, reason);
  }

  // ---- partitions ----

  private block(from: number, to: number): void {
    if (from === to) return;
    const l = this.link(from, to);
    if (this.blocked[l] === 0) {
      this.blocked[l] = 1;
      this.connGen[l]!++;
    }
  }

  /** Adds a partition of the given shape to whatever is already blocked. */
  partition(shape: PartitionShape): void {
    switch (shape.type) {
      case 'symmetric':
        for (const a of shape.a) for (const b of shape.b) { this.block(a, b); this.block(b, a); }
        break;
      case 'one-way':
        for (const a of shape.from) for (const b of shape.to) this.block(a, b);
        break;
      case 'isolate':
        for (let j = 0; j < this.n; j++) { this.block(shape.node, j); this.block(j, shape.node); }
        break;
      case 'bridge':
        for (const a of shape.a) for (const b of shape.b) { this.block(a, b); this.block(b, a); }
        break;
      case 'majorities-ring': {
        // Every node sees a majority (itself and its nearest ring neighbours), no two the same one.
        const ns = shape.nodes;
        const k = Math.ceil((Math.floor(ns.length / 2) + 1 - 1) / 2);
        for (let i = 0; i < ns.length; i++) {
          for (let j = 0; j < ns.length; j++) {
            const d = Math.min(Math.abs(i - j), ns.length - Math.abs(i - j));
            if (d > k) this.block(ns[i]!, ns[j]!);
          }
        }
        break;
      }
      case 'groups': {
        const groupOf = new Map<number, number>();
        shape.groups.forEach((g, gi) => g.forEach((node) => groupOf.set(node, gi)));
        for (const [a, ga] of groupOf) for (const [b, gb] of groupOf) if (ga !== gb) this.block(a, b);
        break;
      }
      default:
        assertNever(shape);
    }
  }

  /** Heals every partition. Connections re-form; what was lost stays lost. */
  heal(): void {
    this.blocked.fill(0);
  }

  // ---- link faults ----

  setLinkFault(from: number, to: number, fault: LinkFault): void {
    this.faults.set(this.link(from, to), fault);
  }

  clearLinkFaults(): void {
    this.faults.clear();
  }

  /** Holds every message on from→to until unclog, then releases them in a burst. */
  clog(from: number, to: number): void {
    this.clogged[this.link(from, to)] = 1;
  }

  unclog(from: number, to: number): void {
    const l = this.link(from, to);
    this.clogged[l] = 0;
    const buf = this.clogBuffers.get(l);
    if (buf === undefined) return;
    this.clogBuffers.delete(l);
    for (const deliver of buf) this.schedule(l, 0, this.faults.get(l), deliver);
  }

  unclogAll(): void {
    for (let from = 0; from < this.n; from++) for (let to = 0; to < this.n; to++) if (this.clogged[this.link(from, to)] === 1) this.unclog(from, to);
  }
}

export function assertNever(x: never): never {
  throw new Error(`unexpected variant: ${JSON.stringify(x)}`);
}
