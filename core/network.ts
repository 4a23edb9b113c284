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
const DROP_CLOSED = 5; // its connection was closed (by the client, or by a crash at either end)

/** Why a connection closed or failed (the value of a `close` trace record). */
export const CLOSE_BY_CLIENT = 1; // the client closed it (NetworkClient: request timeout)
export const CLOSE_SETUP_TIMEOUT = 2; // not established within socket.connection.setup.timeout.ms
export const CLOSE_REFUSED = 3; // nothing listens: the server process is down (the SYN is answered by RST)
export const CLOSE_CRASH = 4; // an end crashed: the client's state is gone, or the server's sockets are

/**
 * A Kafka client's connection settings (one NetworkClient's ClusterConnectionStates). Defaults are
 * the client configs' defaults; each client passes the values its NetworkClient is built with.
 */
export interface ConnectionConfig {
  /** reconnect.backoff.ms: wait after a disconnect before the next connect attempt (CommonClientConfigs, default 50). */
  readonly reconnectBackoffMs: number;
  /** reconnect.backoff.max.ms: the backoff doubles per failed attempt up to this (CommonClientConfigs, default 1000). */
  readonly reconnectBackoffMaxMs: number;
  /** socket.connection.setup.timeout.ms: a connect attempt not established by then fails (CommonClientConfigs, default 10000). */
  readonly setupTimeoutMs: number;
  /** socket.connection.setup.timeout.max.ms: the setup timeout doubles per failed connect up to this (default 30000). */
  readonly setupTimeoutMaxMs: number;
}

export const DEFAULT_CONNECTION: ConnectionConfig = { reconnectBackoffMs: 50, reconnectBackoffMaxMs: 1000, setupTimeoutMs: 10_000, setupTimeoutMaxMs: 30_000 };

/** ClusterConnectionStates.RECONNECT_BACKOFF_JITTER and CONNECTION_SETUP_TIMEOUT_JITTER: ±20 %. */
const BACKOFF_JITTER = 0.2;
/** TCP_TIMEOUT_INIT (RFC 6298 §2.1; Linux): an unanswered SYN is sent again after 1 s, then 2 s, 4 s … */
const SYN_RTO_INIT_US = 1_000_000;

export type ConnectionState = 'disconnected' | 'connecting' | 'ready';

/** One incarnation of a connection: what a message was sent on or arrived on. */
export interface ConnRef {
  readonly conn: Connection;
  readonly gen: number;
}

/**
 * One client's TCP connection to one server, named by the client (a Kafka NetworkClient keeps one
 * per node it talks to: `raft`, `heartbeat`, `controller-channel` …). Requests go client → server,
 * responses come back on it. Opened by the first send (NetworkClient.ready → initiateConnect) with
 * a TCP handshake that cannot cross a partition; closed by the client (a request timeout), by a
 * failed connect, or by a crash at either end. Closing drops everything in flight or held on it in
 * both directions; the next send opens a new one after the reconnect backoff.
 */
export class Connection {
  state: ConnectionState = 'disconnected';
  /** Bumped by every close: packets of an older generation are dead. */
  gen = 0;
  ref: ConnRef;
  /** Packets sent on this generation and not yet delivered or dropped, both directions. */
  readonly outstanding = new Set<Packet>();
  /** Sends waiting for the connection to be established (or for the reconnect backoff to pass). */
  private waiting: { msg: Message; sizeBytes: number }[] = [];
  /** ClusterConnectionStates.NodeConnectionState: failedAttempts and failedConnectAttempts. */
  private failedAttempts = 0;
  private failedConnects = 0;
  /** Virtual time before which no new connect attempt starts (lastConnectAttempt + reconnect backoff). */
  private backoffUntilUs = 0;
  /** Numbers connect attempts, so events of an abandoned attempt do nothing. */
  private attempt = 0;
  private connectAtPending = false;
  private serverInc = -1;
  /** Virtual time the current connection was established (-1 while there is none). */
  readySinceUs = -1;
  /** Connections opened (handshakes completed) and closed, for figures and tests. */
  opened = 0;
  closed = 0;

  constructor(
    private readonly net: Network,
    readonly client: SimNode,
    readonly server: SimNode,
    readonly name: string,
    readonly config: ConnectionConfig,
    private readonly rng: Rng,
  ) {
    this.ref = { conn: this, gen: 0 };
  }

  get ready(): boolean {
    return this.state === 'ready';
  }

  /** Sends a request on the connection, opening it first if need be. */
  send<M extends Message>(msg: M, sizeBytes: number): void {
    if (!this.client.up) return;
    if (this.state === 'ready') {
      if (this.server.incarnation !== this.serverInc) this.reset(CLOSE_CRASH);
      else return this.net.post(this.ref, true, msg, sizeBytes);
    }
    this.waiting.push({ msg, sizeBytes });
    if (this.state === 'disconnected') this.maybeConnect();
  }

  /**
   * A request on it timed out (NetworkClient.handleTimedOutRequests → selector.close →
   * processTimeoutDisconnection): an established connection is closed, and what is in flight or
   * held on it, either way, is dropped. A connect still in progress goes on (only an established
   * connection has requests in flight); the sends waiting for it expire with the request
   * (InterBrokerSendThread.failExpiredRequests).
   */
  expire(): void {
    // Not connected (connecting, or waiting out the reconnect backoff after a refused or timed-out
    // connect): the sends waiting for it expire, and with nothing left to send the client stops
    // trying to connect (NetworkClient only initiates a connect for a request it wants to send).
    if (this.state !== 'ready') {
      this.dropWaiting();
      return;
    }
    this.reset(CLOSE_BY_CLIENT);
  }

  /** NetworkClient.close(node): closes it whatever its state, a connect in progress included. */
  close(): void {
    if (this.state !== 'disconnected' || this.waiting.length > 0) this.reset(CLOSE_BY_CLIENT);
  }

  /** The connection breaks: drops its packets, counts a failed attempt, and is disconnected. */
  reset(reason: number): void {
    const sim = this.net.simulation;
    if (this.state === 'disconnected' && this.waiting.length === 0 && this.outstanding.size === 0) return;
    const wasConnecting = this.state === 'connecting';
    this.state = 'disconnected';
    this.readySinceUs = -1;
    this.gen++;
    this.ref = { conn: this, gen: this.gen };
    this.attempt++;
    this.closed++;
    sim.trace.record(sim.nowUs, 'close', this.client.id, this.server.id, this.name, reason);
    // What the client's TCP still had to send or resend — held by a partition, in a clog, or not
    // yet connected — is gone with it, and so is everything coming back to it (its socket is
    // closed: the peer gets a reset). A request already on the wire, unblocked, still arrives.
    for (const p of this.outstanding) {
      if (p.where === 0 && p.from === this.client) p.orphan = true;
      else this.net.dropPacket(p, DROP_CLOSED);
    }
    this.outstanding.clear();
    // ClusterConnectionStates.disconnected: the backoff grows; a failed connect also grows the setup timeout.
    this.backoffUntilUs = sim.nowUs + this.jittered(this.config.reconnectBackoffMs, this.failedAttempts, this.config.reconnectBackoffMaxMs) * 1000;
    this.failedAttempts++;
    if (wasConnecting) this.failedConnects++;
    else this.failedConnects = 0;
    // A failed connect leaves the requests waiting: the client keeps calling ready() for them until
    // they expire, so it tries again after the backoff. A close or a crash takes them with it.
    if (reason === CLOSE_SETUP_TIMEOUT || reason === CLOSE_REFUSED) {
      if (this.waiting.length > 0) this.maybeConnect();
    } else this.dropWaiting();
  }

  private dropWaiting(): void {
    const w = this.waiting;
    this.waiting = [];
    for (const x of w) this.net.dropMessage(this.client.id, this.server.id, x.msg, DROP_CLOSED);
  }

  /** ExponentialBackoff.backoff(attempts): base × 2^attempts, capped, ×U(0.8, 1.2), capped again. */
  private jittered(baseMs: number, attempts: number, maxMs: number): number {
    if (maxMs <= baseMs) return Math.min(baseMs, maxMs);
    const expMax = Math.log2(maxMs / Math.max(baseMs, 1));
    const term = baseMs * 2 ** Math.min(attempts, expMax);
    const factor = 1 - BACKOFF_JITTER + this.rng.next() * 2 * BACKOFF_JITTER;
    return Math.min(Math.floor(factor * term), maxMs);
  }

  private maybeConnect(): void {
    if (this.connectAtPending) return;
    const sim = this.net.simulation;
    if (sim.nowUs >= this.backoffUntilUs) return this.connect();
    // NetworkClient.ready: not before the reconnect backoff has passed (connectionDelay).
    this.connectAtPending = true;
    sim.at(this.backoffUntilUs, () => {
      this.connectAtPending = false;
      if (this.state === 'disconnected' && this.waiting.length > 0) this.connect();
    }, this.client);
  }

  /** NetworkClient.initiateConnect: a SYN now, again at each SYN retransmission, until the setup timeout. */
  private connect(): void {
    const sim = this.net.simulation;
    const attempt = ++this.attempt;
    this.state = 'connecting';
    sim.trace.record(sim.nowUs, 'connect', this.client.id, this.server.id, this.name, this.failedConnects);
    const timeoutUs = this.jittered(this.config.setupTimeoutMs, this.failedConnects, this.config.setupTimeoutMaxMs) * 1000;
    const deadlineUs = sim.nowUs + timeoutUs;
    // NetworkClient.handleTimedOutConnections: the NetworkClient gives up on the attempt.
    sim.at(deadlineUs, () => {
      if (this.attempt === attempt && this.state === 'connecting') this.reset(CLOSE_SETUP_TIMEOUT);
    }, this.client);
    let rto = SYN_RTO_INIT_US;
    let nextSynUs = sim.nowUs;
    const syn = (): void => {
      if (this.attempt !== attempt || this.state !== 'connecting') return;
      nextSynUs += rto;
      rto *= 2;
      if (nextSynUs < deadlineUs) sim.at(nextSynUs, syn);
      this.net.handshake(this, attempt, () => this.established(attempt), () => {
        if (this.attempt === attempt && this.state === 'connecting') this.reset(CLOSE_REFUSED);
      });
    };
    syn();
  }

  private established(attempt: number): void {
    if (this.attempt !== attempt || this.state !== 'connecting') return;
    const sim = this.net.simulation;
    this.state = 'ready';
    this.readySinceUs = sim.nowUs;
    this.serverInc = this.server.incarnation;
    this.opened++;
    // ClusterConnectionStates.ready: the backoffs start over.
    this.failedAttempts = 0;
    this.failedConnects = 0;
    sim.trace.record(sim.nowUs, 'connected', this.client.id, this.server.id, this.name, this.gen);
    // The NetworkClient sends when its thread runs (later if the client is paused).
    sim.at(sim.nowUs, () => {
      if (this.state !== 'ready') return;
      const w = this.waiting;
      this.waiting = [];
      for (const x of w) this.send(x.msg, x.sizeBytes);
    }, this.client);
  }

  /** The client crashed: its connection state is gone with the process. */
  clientDown(): void {
    this.reset(CLOSE_CRASH);
    this.dropWaiting();
    this.attempt++;
    this.connectAtPending = false;
    this.state = 'disconnected';
    this.backoffUntilUs = 0;
    this.failedAttempts = 0;
    this.failedConnects = 0;
  }
}

/** One message on one link. */
export interface Packet {
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
  /** The connection it travels on, or null for a plain link message (ZooKeeper's own model, gossip). */
  readonly via: ConnRef | null;
  /** On the wire (0), held by a partition for retransmission (1), or in a clog buffer (2). */
  where: number;
  /** Left on the wire when its connection closed: it still arrives (nothing recalls sent bytes). */
  orphan: boolean;
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
  /** Every connection ever opened, by client/server/name, in creation order. */
  private readonly conns = new Map<string, Connection>();
  /** Per (server, client) pair and request type: the connection its latest request arrived on. */
  private readonly requestConns = new Map<number, Map<string, ConnRef>>();
  /** The connection of the request being handled right now, while its receiver runs. */
  private inbound: ConnRef | null = null;
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

  get simulation(): Simulation {
    return this.sim;
  }

  /** The client's connection named `name` to `server`, made on first use (a NetworkClient's node entry). */
  connection(client: SimNode, server: SimNode, name: string, config: ConnectionConfig = DEFAULT_CONNECTION): Connection {
    const key = `${client.id}/${server.id}/${name}`;
    let c = this.conns.get(key);
    if (c === undefined) {
      c = new Connection(this, client, server, name, config, this.sim.rng.fork(`conn/${client.name}/${server.name}/${name}`));
      this.conns.set(key, c);
    }
    return c;
  }

  /** The connection the message being handled arrived on, for a reply sent later. */
  get inboundConnection(): ConnRef | null {
    return this.inbound;
  }

  /**
   * A node crashed: the connections it opened are gone with its process, and the kernel closes the
   * ones it served (a new process has new connections).
   */
  nodeDown(node: SimNode): void {
    for (const c of this.conns.values()) {
      if (c.client === node) c.clientDown();
      else if (c.server === node) c.reset(CLOSE_CRASH);
    }
  }

  /**
   * One SYN of a connect attempt: it crosses if the link is open, and the SYN-ACK (or the RST of a
   * host with nothing listening) comes back if the reverse link is. A lost SYN is not held for the
   * heal: the client's TCP sends it again (Connection.connect) until the setup timeout.
   */
  handshake(conn: Connection, attempt: number, ok: () => void, refused: () => void): void {
    const a = conn.client.id;
    const b = conn.server.id;
    const oneWay = (from: number, to: number): number => {
      const l = this.link(from, to);
      if (this.blocked[l] === 1 || this.clogged[l] === 1) return -1;
      const fault = this.faults.size > 0 ? this.faults.get(l) : undefined;
      if (fault?.drop !== undefined && this.rng.bool(fault.drop)) return -1;
      return this.profile.baseLatencyUs + Math.round(this.rng.exp(this.profile.jitterMeanUs)) + (fault?.delayUs ?? 0);
    };
    const there = oneWay(a, b);
    if (there < 0) return;
    void attempt;
    this.sim.at(this.sim.nowUs + there, () => {
      if (this.blocked[this.link(a, b)] === 1) return;
      const back = oneWay(b, a);
      if (back < 0) return;
      const listening = conn.server.up;
      this.sim.at(this.sim.nowUs + back, () => {
        if (this.blocked[this.link(b, a)] === 1) return;
        if (listening) ok();
        else refused();
      });
    });
  }

  isBlocked(from: number, to: number): boolean {
    return this.blocked[this.link(from, to)] === 1;
  }

  /**
   * Sends a message from → to. A response (type `XResponse`) goes back on the connection its request
   * `X` from that peer arrived on — `via`, or the one the network remembers — and is lost with it if
   * that connection has closed; anything else travels the plain link.
   */
  send(from: SimNode, to: SimNode, msg: Message, sizeBytes: number, via?: ConnRef | null): void {
    if (!from.up) return;
    let ref = via ?? null;
    if (via === undefined && this.requestConns.size > 0 && msg.type.endsWith('Response')) {
      const inb = this.inbound;
      if (inb !== null && inb.conn.client === to && inb.conn.server === from) ref = inb;
      else ref = this.requestConns.get(this.link(from.id, to.id))?.get(msg.type.slice(0, -'Response'.length)) ?? null;
    }
    if (ref !== null) return this.post(ref, ref.conn.client === from, msg, sizeBytes);
    this.transmit(from, to, msg, sizeBytes, null);
  }

  /** Sends on a connection: client → server if `toServer`, else the reply direction. */
  post(ref: ConnRef, toServer: boolean, msg: Message, sizeBytes: number): void {
    const c = ref.conn;
    const from = toServer ? c.client : c.server;
    const to = toServer ? c.server : c.client;
    if (!from.up) return;
    if (c.gen !== ref.gen || c.state !== 'ready') {
      // Written to a socket that is closed: nothing goes out.
      this.sim.trace.record(this.sim.nowUs, 'send', from.id, to.id, msg.type, sizeBytes);
      this.messagesSent++;
      return this.dropMessage(from.id, to.id, msg, DROP_CLOSED);
    }
    this.transmit(from, to, msg, sizeBytes, ref);
  }

  private transmit(from: SimNode, to: SimNode, msg: Message, sizeBytes: number, via: ConnRef | null): void {
    const sim = this.sim;
    const l = this.link(from.id, to.id);
    this.messagesSent++;
    this.bytesSent += sizeBytes;
    sim.trace.record(sim.nowUs, 'send', from.id, to.id, msg.type, sizeBytes);
    const fault = this.faults.size > 0 ? this.faults.get(l) : undefined;
    if (fault?.drop !== undefined && this.rng.bool(fault.drop)) {
      this.dropMessage(from.id, to.id, msg, DROP_LOSS);
      return;
    }
    const p: Packet = {
      from, to, msg, sizeBytes, link: l, gen: this.connGen[l]!, senderInc: from.incarnation, receiverInc: to.incarnation, sentUs: sim.nowUs, seq: this.packetSeq++, via, where: 0, orphan: false,
    };
    if (via !== null) via.conn.outstanding.add(p);
    // Blocked, or still waiting for the retransmission after a heal: new data queues behind.
    if (this.blocked[l] === 1 || (this.held.size > 0 && this.held.has(l))) {
      this.hold(p);
      return;
    }
    if (this.clogged[l] === 1) {
      let buf = this.clogBuffers.get(l);
      if (buf === undefined) this.clogBuffers.set(l, (buf = []));
      buf.push(p);
      p.where = 2;
      return;
    }
    this.schedule(p, p.sizeBytes, fault);
    if (fault?.duplicate !== undefined && this.rng.bool(fault.duplicate)) this.schedule(p, p.sizeBytes, fault);
  }

  private schedule(pkt: Packet, sizeBytes: number, fault: LinkFault | undefined): void {
    const l = pkt.link;
    pkt.where = 0;
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

  /** A packet on a connection that has since closed: already dropped (and recorded) by the close. */
  private dead(p: Packet): boolean {
    return p.via !== null && p.via.conn.gen !== p.via.gen && !p.orphan;
  }

  private arrive(p: Packet): void {
    if (this.dead(p)) return;
    if (this.connGen[p.link] !== p.gen) return this.dropPacket(p, DROP_BROKEN);
    // Lost on the wire by a partition that started while it was in flight: TCP retransmits it.
    if (this.blocked[p.link] === 1) return this.hold(p);
    const to = p.to;
    if (!to.up || to.incarnation !== p.receiverInc) return this.dropPacket(p, DROP_DOWN);
    const sim = this.sim;
    p.via?.conn.outstanding.delete(p);
    // Bytes that reached the receiver's socket are processed when it runs again.
    const run = (): void => {
      if (to.behavior === null || to.incarnation !== p.receiverInc) return;
      sim.trace.record(sim.nowUs, 'deliver', to.id, p.from.id, p.msg.type, p.sizeBytes);
      const via = p.via;
      if (via === null || via.conn.client !== p.from) return to.behavior.onMessage(p.from, p.msg);
      if (p.orphan) {
        // The server reads it (its end of the connection is still open); the answer meets a reset.
        const prev = this.inbound;
        this.inbound = via;
        try {
          to.behavior.onMessage(p.from, p.msg);
        } finally {
          this.inbound = prev;
        }
        return;
      }
      // A request: remember its connection for the reply, and expose it while it is handled.
      let byType = this.requestConns.get(this.link(to.id, p.from.id));
      if (byType === undefined) this.requestConns.set(this.link(to.id, p.from.id), (byType = new Map()));
      byType.set(p.msg.type, via);
      const prev = this.inbound;
      this.inbound = via;
      try {
        to.behavior.onMessage(p.from, p.msg);
      } finally {
        this.inbound = prev;
      }
    };
    if (to.paused) to.deferred.push(run);
    else run();
  }

  /** A partition holds the packet: the sender's TCP keeps retransmitting it until heal or give-up. */
  private hold(p: Packet): void {
    if (p.orphan) return this.dropMessage(p.from.id, p.to.id, p.msg, DROP_CLOSED);
    p.where = 1;
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
        if (this.dead(p)) continue;
        if (!p.from.up || p.from.incarnation !== p.senderInc) this.dropPacket(p, DROP_SENDER_GONE);
        else this.schedule(p, p.sizeBytes, fault);
      }
    });
  }

  dropMessage(from: number, to: number, msg: Message, reason: number): void {
    this.messagesDropped++;
    this.sim.trace.record(this.sim.nowUs, 'drop', from, to, msg.type, reason);
  }

  dropPacket(p: Packet, reason: number): void {
    if (reason !== DROP_CLOSED) p.via?.conn.outstanding.delete(p);
    this.dropMessage(p.from.id, p.to.id, p.msg, reason);
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
      for (const p of lost) if (!this.dead(p)) this.dropPacket(p, DROP_BROKEN);
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
      if (this.dead(p)) continue;
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
