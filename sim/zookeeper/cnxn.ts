import type { SimNode } from '../../core/index.ts';
import { assertNever } from '../../core/index.ts';
import { cost } from '../cluster/cost.ts';
import type { Trigger } from './datatree.ts';
import type { QuorumPeer } from './peer.ts';
import { PipelineTail, readChunkDoneUs } from './pipeline.ts';
import type { ReadOp, Response, Txn, WatchEventType, WatchReg, ZkClientMsg, Zxid } from './types.ts';

/** Server-side costs (from sim/cluster/cost.ts, ZooKeeper section). */
export interface ZkServerCosts {
  readonly readUs: number;
  readonly writeUs: number;
  readonly txnLogFsyncUs: number;
  readonly statBytes: number;
  readonly znodePathBytes: number;
  readonly partitionStateZnodeBytes: number;
  /** zk.packet.header.bytes (the cost model's default when absent). */
  readonly packetHeaderBytes?: number;
  /** zk.quorum.packet.header.bytes (the cost model's default when absent). */
  readonly quorumPacketHeaderBytes?: number;
  /** zk.txn.header.bytes (the cost model's default when absent). */
  readonly txnHeaderBytes?: number;
}

/** The packet framing sizes of a cost set, with the cost model's defaults for those it leaves out. */
export function framing(c: ZkServerCosts): { readonly packet: number; readonly quorum: number; readonly txn: number } {
  return {
    packet: c.packetHeaderBytes ?? cost({}, 'zk.packet.header.bytes'),
    quorum: c.quorumPacketHeaderBytes ?? cost({}, 'zk.quorum.packet.header.bytes'),
    txn: c.txnHeaderBytes ?? cost({}, 'zk.txn.header.bytes'),
  };
}

// Fixed jute record sizes (zookeeper.jute) of the session packets, which have no RequestHeader.
/** ConnectRequest: length 4 + protocolVersion 4 + lastZxidSeen 8 + timeOut 4 + sessionId 8 + passwd (4 + 16) + readOnly 1. */
export const CONNECT_REQUEST_BYTES = 49;
/** ConnectResponse: length 4 + protocolVersion 4 + timeOut 4 + sessionId 8 + passwd (4 + 16) + readOnly 1. */
export const CONNECT_RESPONSE_BYTES = 41;
/** One watch re-registered by SetWatches on reconnect: a path string (4 + ≈ 20) — estimate. */
export const SET_WATCHES_BYTES_PER_WATCH = 24;
/** WatcherEvent body: type 4 + state 4 + path length 4 (+ the path). */
export const WATCHER_EVENT_BODY_BYTES = 12;

interface Slot {
  readonly cxid: number;
  response: Response | null;
  /** A ping: answered in order behind the session's earlier requests (CommitProcessor keeps session order). */
  readonly ping?: boolean;
  /** A write (or sync): answered once it has committed here. */
  readonly write?: boolean;
}

/** One client connection (NIOServerCnxn): its session and the responses owed, in request order. */
interface Cnxn {
  readonly client: SimNode;
  /** The client's connection attempt this connection answers (ConnectRequest.conn). */
  readonly conn: number;
  readonly sessionId: number;
  readonly slots: Slot[];
  /** Reads waiting for the session's earlier writes to commit here, each behind the last such write. */
  readonly held: { readonly after: Slot; readonly run: () => void }[];
  /** Where the session's last chunk of reads left its pipeline (pipeline.ts). */
  readonly tail: PipelineTail;
  out: number;
}

type WatchTable = Map<string, Set<number>>;

/**
 * The client-facing half of a server: connections, session touches, reads served locally from
 * the committed tree (possibly stale on a follower), writes forwarded to the leader and answered
 * when they commit here, and one-shot watches fired by this server to the clients connected to it.
 * Responses go back in request order per connection, as ZooKeeper guarantees.
 */
export class ServerCnxns {
  private readonly byClient = new Map<number, Cnxn>();
  private readonly bySession = new Map<number, Cnxn>();
  private readonly dataWatches: WatchTable = new Map();
  private readonly existWatches: WatchTable = new Map();
  private readonly childWatches: WatchTable = new Map();
  /** createSession txns this server submitted, by session: the connecting client and its attempt. */
  private readonly connecting = new Map<number, { client: SimNode; conn: number }>();
  private nextSession = 1;
  private readonly framing: ReturnType<typeof framing>;

  constructor(
    private readonly peer: QuorumPeer,
    private readonly costs: ZkServerCosts,
  ) {
    this.framing = framing(costs);
  }

  get connections(): number {
    return this.byClient.size;
  }

  private send(to: SimNode, msg: ZkClientMsg, bytes: number): void {
    this.peer.node.send(to, msg, bytes);
  }

  private sendOn(c: Cnxn, msg: ZkClientMsg, bytes: number): void {
    this.peer.node.send(c.client, { ...msg, pos: ++c.out } as ZkClientMsg, bytes);
  }

  onClientMessage(from: SimNode, msg: Extract<ZkClientMsg, { type: 'ConnectRequest' | 'ZkRequest' | 'ZkPing' }>): void {
    const peer = this.peer;
    if (!peer.serving) return; // not serving: the client's connect/read timeout moves it on
    switch (msg.type) {
      case 'ConnectRequest': {
        // ZooKeeperServer.processConnectRequest refuses a client that has seen a newer zxid.
        if (msg.lastZxidSeen > peer.tree.lastProcessedZxid) return;
        // A newer socket of this client is open here: this attempt was abandoned before it arrived.
        if (this.superseded(from, msg.conn)) return;
        this.drop(from.id);
        if (msg.sessionId === 0) {
          const node = peer.node;
          const session = (peer.sid + 1) * 1e9 + node.incarnation * 1e6 + this.nextSession++;
          this.connecting.set(session, { client: from, conn: msg.conn });
          this.write(session, -1, [{ type: 'createSession', session, timeoutMs: msg.timeoutMs }], -1);
          return;
        }
        const timeoutMs = peer.tree.sessions.get(msg.sessionId);
        if (timeoutMs === undefined || peer.sessions?.has(msg.sessionId) === false && peer.state === 'LEADING') {
          this.send(from, { type: 'ConnectResponse', conn: msg.conn, sessionId: msg.sessionId, timeoutMs: 0, expired: true }, CONNECT_RESPONSE_BYTES);
          return;
        }
        const oc = this.open(from, msg.conn, msg.sessionId);
        peer.touch(msg.sessionId);
        this.setWatches(msg.sessionId, msg.watches, msg.lastZxidSeen);
        this.send(from, { type: 'ConnectResponse', conn: msg.conn, sessionId: msg.sessionId, timeoutMs, expired: false, pos: oc.out }, CONNECT_RESPONSE_BYTES);
        return;
      }
      case 'ZkPing': {
        const c = this.byClient.get(from.id);
        if (c === undefined || c.sessionId !== msg.sessionId) return;
        peer.touch(c.sessionId);
        const slot: Slot = { cxid: -2, response: null, ping: true };
        c.slots.push(slot);
        this.fill(c, slot, { code: 'OK', zxid: peer.tree.lastProcessedZxid });
        return;
      }
      case 'ZkRequest': {
        const c = this.byClient.get(from.id);
        if (c === undefined || c.sessionId !== msg.sessionId) {
          this.send(from, { type: 'ConnectionClosed', sessionId: msg.sessionId }, this.framing.packet);
          return;
        }
        peer.touch(c.sessionId);
        const req = msg.request;
        const slot: Slot = { cxid: msg.cxid, response: null, write: req.kind === 'write' || req.op.type === 'sync' || (req.op.type === 'getPartitionStates' && req.op.sync) };
        // CommitProcessor: a read runs only after the session's earlier writes committed here, so a
        // session reads its own writes (and a read behind a sync sees what the sync caught up to).
        let pendingWrite: Slot | undefined;
        for (const s of c.slots) if (s.write === true && s.response === null) pendingWrite = s;
        c.slots.push(slot);
        if (req.kind === 'write') {
          this.write(c.sessionId, msg.cxid, req.ops, msg.writerEpoch);
          return;
        }
        if (req.op.type === 'sync') {
          peer.sync(() => this.fill(c, slot, { code: 'OK', zxid: peer.tree.lastProcessedZxid }));
          return;
        }
        const op = req.op;
        if (op.type === 'getPartitionStates') {
          const chunkRun = (): void => this.readChunk(c, slot, op);
          if (op.sync) peer.sync(chunkRun);
          else if (pendingWrite === undefined) chunkRun();
          else c.held.push({ after: pendingWrite, run: chunkRun });
          return;
        }
        const run = (): void => peer.node.executor('zk-request').submit(op.type, this.costs.readUs, () => this.fill(c, slot, this.read(c.sessionId, op)));
        if (pendingWrite === undefined) run();
        else c.held.push({ after: pendingWrite, run });
        return;
      }
      default:
        assertNever(msg);
    }
  }

  private write(session: number, cxid: number, ops: Parameters<QuorumPeer['submitWrite']>[3], writerEpoch: number): void {
    const peer = this.peer;
    if (peer.state === 'LEADING') peer.submitWrite(peer.sid, session, cxid, ops, writerEpoch);
    else peer.forwardWrite(session, cxid, ops, writerEpoch);
  }

  /** Whether a connection of a newer attempt of this client is already open here. */
  private superseded(client: SimNode, conn: number): boolean {
    const cur = this.byClient.get(client.id);
    return cur !== undefined && cur.conn > conn;
  }

  private open(client: SimNode, conn: number, sessionId: number): Cnxn {
    const old = this.bySession.get(sessionId);
    if (old !== undefined) this.drop(old.client.id);
    const c: Cnxn = { client, conn, sessionId, slots: [], held: [], tail: new PipelineTail(), out: 0 };
    this.byClient.set(client.id, c);
    this.bySession.set(sessionId, c);
    return c;
  }

  private drop(clientId: number): void {
    const c = this.byClient.get(clientId);
    if (c === undefined) return;
    this.byClient.delete(clientId);
    if (this.bySession.get(c.sessionId) === c) this.bySession.delete(c.sessionId);
  }

  private fill(c: Cnxn, slot: Slot, r: Response): void {
    slot.response = r;
    if (this.byClient.get(c.client.id) !== c) return;
    // Writes of a session commit in order: held reads run as the writes before them are answered.
    while (c.held.length > 0 && c.held[0]!.after.response !== null) c.held.shift()!.run();
    while (c.slots.length > 0 && c.slots[0]!.response !== null) {
      const s = c.slots.shift()!;
      if (s.ping === true) this.sendOn(c, { type: 'ZkPingResponse' }, this.framing.packet);
      else this.sendOn(c, { type: 'ZkResponse', cxid: s.cxid, response: s.response! }, responseBytes(s.response!, this.costs, this.framing.packet));
    }
  }

  /**
   * A chunk of `n` pipelined partition-state reads: the request thread spends n × zk.server.read.us
   * on it, and the answer leaves no earlier than the last of the n requests would have been served
   * (pipeline.ts: the client sends the next only when an answer frees a slot; a read behind a
   * sync() takes the sync's trips too). The states are those of the tree at that moment.
   */
  private readChunk(c: Cnxn, slot: Slot, op: Extract<ReadOp, { type: 'getPartitionStates' }>): void {
    const peer = this.peer;
    const node = peer.node;
    const n = op.partitions.length;
    const readUs = this.costs.readUs;
    const syncHops = op.sync ? (peer.state === 'LEADING' ? 2 : 4) : 0;
    const dueUs = readChunkDoneUs(peer.pipelineRng, node.sim.net.profile, n, op.window, readUs, syncHops, node.sim.nowUs, c.tail);
    node.executor('zk-request').submit('getPartitionStates', n * readUs, () => {
      const now = node.sim.nowUs;
      if (dueUs > now) node.after(dueUs - now, () => this.fill(c, slot, this.readStates(op.partitions)));
      else this.fill(c, slot, this.readStates(op.partitions));
    });
  }

  private readStates(parts: Int32Array): Response {
    const tree = this.peer.tree;
    const ps = tree.partitions;
    const { size } = ps;
    const { leader: psLeader, leaderEpoch: psLeaderEpoch, isr: psIsr, version: psVersion } = ps;
    const n = parts.length;
    // The answer's columns: views of one buffer.
    const buf = new ArrayBuffer(n * 13);
    const leader = new Int32Array(buf, 0, n);
    const leaderEpoch = new Int32Array(buf, 4 * n, n);
    const version = new Int32Array(buf, 8 * n, n);
    const isr = new Uint8Array(buf, 12 * n, n);
    for (let i = 0; i < n; i++) {
      const p = parts[i]!;
      const v = p < size ? psVersion[p]! : -1;
      version[i] = v;
      if (v < 0) continue;
      leader[i] = psLeader[p]!;
      leaderEpoch[i] = psLeaderEpoch[p]!;
      isr[i] = psIsr[p]!;
    }
    return { code: 'OK', partitionStates: { leader, leaderEpoch, isr, version }, zxid: tree.lastProcessedZxid };
  }

  private addWatch(table: WatchTable, path: string, session: number): void {
    let s = table.get(path);
    if (s === undefined) table.set(path, (s = new Set()));
    s.add(session);
  }

  private read(session: number, op: Exclude<ReadOp, { type: 'sync' }>): Response {
    const tree = this.peer.tree;
    const zxid = tree.lastProcessedZxid;
    switch (op.type) {
      case 'getData': {
        const n = tree.get(op.path);
        if (n === undefined) return { code: 'NONODE', zxid };
        if (op.watch) this.addWatch(this.dataWatches, op.path, session);
        return { code: 'OK', data: n.data, dataBytes: n.dataBytes, stat: tree.stat(n), zxid };
      }
      case 'exists': {
        const n = tree.get(op.path);
        if (op.watch) this.addWatch(n === undefined ? this.existWatches : this.dataWatches, op.path, session);
        return n === undefined ? { code: 'NONODE', zxid } : { code: 'OK', stat: tree.stat(n), zxid };
      }
      case 'getChildren': {
        const n = tree.get(op.path);
        if (n === undefined) return { code: 'NONODE', zxid };
        if (op.watch) this.addWatch(this.childWatches, op.path, session);
        return { code: 'OK', children: [...n.children].sort(), stat: tree.stat(n), zxid };
      }
      case 'getPartitionStates':
        return this.readStates(op.partitions);
      case 'getPartitionState': {
        const ps = tree.partitions;
        if (ps.version[op.partition]! < 0) return { code: 'NONODE', zxid };
        return { code: 'OK', partitionState: ps.get(op.partition), zxid };
      }
      default:
        return assertNever(op);
    }
  }

  /** SetWatches on reconnect: re-register, firing at once what changed since the client's last zxid. */
  private setWatches(session: number, watches: readonly WatchReg[], relZxid: Zxid): void {
    const tree = this.peer.tree;
    for (const w of watches) {
      const n = tree.get(w.path);
      let fire: WatchEventType | null = null;
      if (w.kind === 'data') fire = n === undefined ? 'NodeDeleted' : n.mzxid > relZxid ? 'NodeDataChanged' : null;
      else if (w.kind === 'exist') fire = n !== undefined ? 'NodeCreated' : null;
      else fire = n === undefined ? 'NodeDeleted' : n.pzxid > relZxid ? 'NodeChildrenChanged' : null;
      const c = this.bySession.get(session)!;
      if (fire !== null) this.sendOn(c, { type: 'WatcherEvent', path: w.path, event: fire }, this.framing.packet + WATCHER_EVENT_BODY_BYTES + w.path.length);
      else this.addWatch(w.kind === 'data' ? this.dataWatches : w.kind === 'exist' ? this.existWatches : this.childWatches, w.path, session);
    }
  }

  /** A txn committed on this server: fire watches, answer the client if the request came here. */
  onCommitted(t: Txn, triggers: readonly Trigger[]): void {
    for (const tr of triggers) this.fire(tr);
    // A client's own closeSession is answered before its connection is closed (FinalRequestProcessor
    // replies, then NIOServerCnxn closes the socket); an expired session's close has no request.
    if (t.origin === this.peer.sid && t.ops.length === 1 && t.ops[0]!.type === 'closeSession') {
      const c = this.bySession.get(t.session);
      const slot = c?.slots.find((s) => s.cxid === t.cxid && s.response === null);
      if (c !== undefined && slot !== undefined) this.fill(c, slot, txnResponse(t));
    }
    for (const op of t.ops) {
      if (op.type === 'closeSession') this.closeSession(op.session);
    }
    if (t.origin !== this.peer.sid) return;
    const first = t.ops[0];
    if (first !== undefined && first.type === 'createSession') {
      const att = this.connecting.get(first.session);
      this.connecting.delete(first.session);
      if (att === undefined) return;
      // The client opened a newer socket here while this session was being created: the session is
      // an orphan (it expires unused), the newer connection stays.
      if (this.superseded(att.client, att.conn)) return;
      this.open(att.client, att.conn, first.session);
      this.send(att.client, { type: 'ConnectResponse', conn: att.conn, sessionId: first.session, timeoutMs: first.timeoutMs, expired: false }, CONNECT_RESPONSE_BYTES);
      return;
    }
    const c = this.bySession.get(t.session);
    if (c === undefined) return;
    const slot = c.slots.find((s) => s.cxid === t.cxid && s.response === null);
    if (slot === undefined) return;
    this.fill(c, slot, txnResponse(t));
  }

  private fire(tr: Trigger): void {
    const send = (table: WatchTable): void => {
      const s = table.get(tr.path);
      if (s === undefined) return;
      table.delete(tr.path);
      for (const session of s) {
        const c = this.bySession.get(session);
        if (c !== undefined) this.sendOn(c, { type: 'WatcherEvent', path: tr.path, event: tr.event }, this.framing.packet + WATCHER_EVENT_BODY_BYTES + tr.path.length);
      }
    };
    switch (tr.event) {
      case 'NodeCreated':
        send(this.existWatches);
        send(this.dataWatches);
        break;
      case 'NodeDataChanged':
        send(this.dataWatches);
        break;
      case 'NodeDeleted':
        send(this.dataWatches);
        send(this.childWatches);
        break;
      case 'NodeChildrenChanged':
        send(this.childWatches);
        break;
      default:
        assertNever(tr.event);
    }
  }

  /** The session was closed (expired): its connection here is closed and its watches dropped. */
  private closeSession(session: number): void {
    for (const t of [this.dataWatches, this.existWatches, this.childWatches]) for (const s of t.values()) s.delete(session);
    const c = this.bySession.get(session);
    if (c === undefined) return;
    this.drop(c.client.id);
    this.send(c.client, { type: 'ConnectionClosed', sessionId: session }, this.framing.packet);
  }

  /** The server stopped serving: every connection is closed; clients reconnect elsewhere. */
  closeAll(): void {
    for (const c of this.byClient.values()) this.send(c.client, { type: 'ConnectionClosed', sessionId: c.sessionId }, this.framing.packet);
    this.byClient.clear();
    this.bySession.clear();
    this.connecting.clear();
    this.dataWatches.clear();
    this.existWatches.clear();
    this.childWatches.clear();
  }

  /** After a SNAP the tree object changed; nothing cached refers to it. */
  treeReplaced(): void {}

  /** Warm start: a client already connected here with an open session. */
  warmOpen(client: SimNode, session: number): void {
    this.open(client, client.incarnation * 1_000_000, session);
  }

  warmWatch(session: number, path: string, kind: WatchReg['kind']): void {
    this.addWatch(kind === 'data' ? this.dataWatches : kind === 'exist' ? this.existWatches : this.childWatches, path, session);
  }
}

function txnResponse(t: Txn): Response {
  const err = t.ops.find((o) => o.type === 'error');
  if (err !== undefined && err.type === 'error') return { code: err.code, failedOp: err.failedOp, zxid: t.zxid };
  const first = t.ops[0];
  if (first !== undefined && first.type === 'partitionStates') return { code: 'OK', chunkCodes: first.codes, zxid: t.zxid };
  const created: string[] = [];
  const createdZxids: number[] = [];
  for (const op of t.ops) {
    if (op.type === 'create') {
      created.push(op.path);
      createdZxids.push(t.zxid);
    }
  }
  return { code: 'OK', created, createdZxids, zxid: t.zxid };
}

function responseBytes(r: Response, c: ZkServerCosts, packetHeaderBytes: number): number {
  // A chunk's answer is its requests' answers: one reply (header, state znode data, Stat) each.
  if (r.partitionStates !== undefined) return r.partitionStates.version.length * (packetHeaderBytes + c.partitionStateZnodeBytes + c.statBytes);
  if (r.chunkCodes !== undefined) return r.chunkCodes.length * packetHeaderBytes;
  let b = packetHeaderBytes;
  if (r.stat !== undefined) b += c.statBytes;
  if (r.partitionState !== undefined) b += c.partitionStateZnodeBytes + c.statBytes;
  if (r.children !== undefined) for (const ch of r.children) b += 4 + ch.length;
  if (r.dataBytes !== undefined) b += r.dataBytes;
  return b;
}
