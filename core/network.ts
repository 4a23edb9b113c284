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

/**
 * TCP retransmission through a partition (Linux defaults): the first retransmission after
 * TCP_RTO_MIN = 200 ms, doubling up to TCP_RTO_MAX = 120 s; with tcp_retries2 = 15 the sender gives
 * up and the connection breaks after about 924.6 s.
 */
export interface TcpRetransmit {
  rtoMinUs: number;
  rtoMaxUs: number;
  giveUpUs: number;
}

export const DEFAULT_TCP: TcpRetransmit = { rtoMinUs: 200_000, rtoMaxUs: 120_000_000, giveUpUs: 924_600_000 };

/** Why a message was not delivered (the value of a `drop` trace record). */
const DROP_BROKEN = 1; // the connection broke (retransmission gave up) with it in flight or held
const DROP_LOSS = 2; // a lossy-link fault
const DROP_SENDER_GONE = 3; // held for retransmission when its sender crashed
const DROP_DOWN = 4; // the receiver crashed or restarted (a new process has new connections)

/** One message on one link. */
interface Packet {
  readonly from: SimNode;
  readonly to: SimNode;
  readonly msg: Message;
  readonly sizeBytes: number;
  readonly link: number;
  /** Connection generation at send: a break in between loses the packet. */
  readonly gen: number;
  readonly senderInc: number;
  readonly receiverInc: number;
  readonly sentUs: number;
  /** Order on its link, for releasing held packets in stream order. */
  readonly seq: number;
}

/**
 * TCP-like connections between every ordered pair of nodes: FIFO per direction, reliable while
 * connected, a message occupying its link for size / bandwidth. A partition drops packets, so TCP
 * retransmits: what is in flight or sent meanwhile is held and arrives, in order, at the first
 * retransmission after heal; a partition longer than the retransmission give-up breaks the
 * connection and loses it. Nobody is told either way: the ends notice only through their own
 * timeouts. A receiver that crashes or restarts loses what was in flight to it (a new process has
 * new connections); a sender that crashes retransmits nothing.
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
  private clogBuffers = new Map<number, Packet[]>();
  /** Packets a partition holds back, awaiting TCP retransmission after heal. */
  private held = new Map<number, Packet[]>();
  private blockEpisode = new Uint32Array(0);
  private packetSeq = 0;
  tcp: TcpRetransmit = { ...DEFAULT_TCP };
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
    this.blockEpisode = grow(this.blockEpisode, (l) => new Uint32Array(l));
    if (this.faults.size > 0 || this.clogBuffers.size > 0 || this.held.size > 0) throw new Error('Network.resize: add every node before injecting link faults');
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
    const fault = this.faults.size > 0 ? this.faults.get(l) : undefined;
    if (fault?.drop !== undefined && this.rng.bool(fault.drop)) {
      this.drop(from.id, to.id, msg, DROP_LOSS);
      return;
    }
    const p: Packet = {
      from, to, msg, sizeBytes, link: l, gen: this.connGen[l]!, senderInc: from.incarnation, receiverInc: to.incarnation, sentUs: sim.nowUs, seq: this.packetSeq++,
    };
    // Blocked, or still waiting for the retransmission after a heal: new data queues behind.
    if (this.blocked[l] === 1 || (this.held.size > 0 && this.held.has(l))) {
      this.hold(p);
      return;
    }
    if (this.clogged[l] === 1) {
      let buf = this.clogBuffers.get(l);
      if (buf === undefined) this.clogBuffers.set(l, (buf = []));
      buf.push(p);
      return;
    }
    this.schedule(p, p.sizeBytes, fault);
    if (fault?.duplicate !== undefined && this.rng.bool(fault.duplicate)) this.schedule(p, p.sizeBytes, fault);
  }

  private schedule(pkt: Packet, sizeBytes: number, fault: LinkFault | undefined): void {
    const l = pkt.link;
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
    this.sim.at(arrival, () => this.arrive(pkt));
  }

  private arrive(p: Packet): void {
    if (this.connGen[p.link] !== p.gen) return this.drop(p.from.id, p.to.id, p.msg, DROP_BROKEN);
    // Lost on the wire by a partition that started while it was in flight: TCP retransmits it.
    if (this.blocked[p.link] === 1) return this.hold(p);
    const to = p.to;
    if (!to.up || to.incarnation !== p.receiverInc) return this.drop(p.from.id, to.id, p.msg, DROP_DOWN);
    const sim = this.sim;
    // Bytes that reached the receiver's socket are processed when it runs again.
    const run = (): void => {
      if (to.behavior === null || to.incarnation !== p.receiverInc) return;
      sim.trace.record(sim.nowUs, 'deliver', to.id, p.from.id, p.msg.type, p.sizeBytes);
      to.behavior.onMessage(p.from, p.msg);
    };
    if (to.paused) to.deferred.push(run);
    else run();
  }

  /** A partition holds the packet: the sender's TCP keeps retransmitting it until heal or give-up. */
  private hold(p: Packet): void {
    let list = this.held.get(p.link);
    if (list === undefined) this.held.set(p.link, (list = []));
    list.push(p);
  }

  /**
   * After heal, held packets go out at the head packet's next retransmission (RTO doubling from
   * rtoMin since it was first sent) but no later than rtoMin after the heal, in stream order; a
   * crashed sender retransmits nothing. The cap is a simplification: after a long partition real
   * backoff can leave a connection idle for up to rtoMax, but clients time out and reconnect long
   * before (Kafka's request timeouts, ZooKeeper's readTimeout), and nothing here models reconnects.
   */
  private release(l: number): void {
    const list = this.held.get(l);
    if (list === undefined || list.length === 0) return;
    list.sort((a, b) => a.seq - b.seq);
    const now = this.sim.nowUs;
    let t = list[0]!.sentUs;
    let rto = this.tcp.rtoMinUs;
    while (t + rto <= now) {
      t += rto;
      rto = Math.min(rto * 2, this.tcp.rtoMaxUs);
    }
    const episode = this.blockEpisode[l]!;
    this.sim.at(Math.min(t + rto, now + this.tcp.rtoMinUs), () => {
      if (this.blocked[l] === 1 || this.blockEpisode[l] !== episode) return; // partitioned again: still held
      const due = this.held.get(l) ?? [];
      this.held.delete(l);
      const fault = this.faults.size > 0 ? this.faults.get(l) : undefined;
      for (const p of due) {
        if (!p.from.up || p.from.incarnation !== p.senderInc) this.drop(p.from.id, p.to.id, p.msg, DROP_SENDER_GONE);
        else this.schedule(p, p.sizeBytes, fault);
      }
    });
  }

  private drop(from: number, to: number, msg: Message, reason: number): void {
    this.messagesDropped++;
    this.sim.trace.record(this.sim.nowUs, 'drop', from, to, msg.type, reason);
  }

  // ---- partitions ----

  /**
   * Blocks one direction. Nothing is lost yet: TCP retransmits what it cannot deliver; only if the
   * block outlasts the retransmission give-up does the connection break, losing what it held.
   */
  private block(from: number, to: number): void {
    if (from === to) return;
    const l = this.link(from, to);
    if (this.blocked[l] === 1) return;
    this.blocked[l] = 1;
    const episode = ++this.blockEpisode[l]!;
    this.sim.at(this.sim.nowUs + this.tcp.giveUpUs, () => {
      if (this.blocked[l] !== 1 || this.blockEpisode[l] !== episode) return;
      this.connGen[l]!++;
      const lost = this.held.get(l) ?? [];
      this.held.delete(l);
      for (const p of lost) this.drop(p.from.id, p.to.id, p.msg, DROP_BROKEN);
    });
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

  /** Heals every partition; held packets follow at their next retransmission. */
  heal(): void {
    for (let l = 0; l < this.blocked.length; l++) {
      if (this.blocked[l] === 0) continue;
      this.blocked[l] = 0;
      this.blockEpisode[l]!++;
      this.release(l);
    }
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
    for (const p of buf) {
      if (this.blocked[l] === 1) this.hold(p);
      else this.schedule(p, 0, this.faults.get(l));
    }
  }

  unclogAll(): void {
    for (let from = 0; from < this.n; from++) for (let to = 0; to < this.n; to++) if (this.clogged[this.link(from, to)] === 1) this.unclog(from, to);
  }
}

export function assertNever(x: never): never {
  throw new Error(`unexpected variant: ${JSON.stringify(x)}`);
}
