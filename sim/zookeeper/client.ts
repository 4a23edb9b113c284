import type { SimNode } from '../../core/index.ts';
import { assertNever } from '../../core/index.ts';
import type { Op, ReadOp, Request, Response, WatchEventType, WatchReg, ZkClientMsg, Zxid } from './types.ts';
import { cost } from '../cluster/cost.ts';
import { CONNECT_REQUEST_BYTES, SET_WATCHES_BYTES_PER_WATCH } from './cnxn.ts';

export type KeeperState = 'SyncConnected' | 'Disconnected' | 'Expired';

export interface ZooKeeperClientOptions {
  readonly sessionTimeoutMs: number;
  /** zookeeper.max.in.flight.requests: Kafka's ZooKeeperClient semaphore over pipelined requests. */
  readonly maxInFlight: number;
  readonly onState: (s: KeeperState) => void;
  readonly onWatch: (path: string, event: WatchEventType) => void;
  /** Request bytes (path + data) for sizing messages. */
  readonly requestBytes: (r: Request) => number;
  /** zk.packet.header.bytes (the cost model's default when absent). */
  readonly packetHeaderBytes?: number;
}

type Callback = (r: Response) => void;

interface Pending {
  readonly cxid: number;
  readonly request: Request;
  readonly writerEpoch: number;
  readonly cb: Callback;
  /** Not re-sent after a lost connection: fails with CONNECTIONLOSS instead (a plain ZooKeeper client's request). */
  readonly once: boolean;
  /** Position in the current connection's send stream (set on each transmit). */
  seq: number;
}

/**
 * A ZooKeeper client in a Kafka node (ClientCnxn under Kafka's ZooKeeperClient): one connection to
 * one server at a time; pings when idle for readTimeout/2 (readTimeout = 2/3 of the negotiated
 * session timeout); declares itself Disconnected after readTimeout without hearing the server (or
 * when the server closes the connection) and, after a random sleep below a second, reconnects to
 * the next server (connect timeout = session timeout / #servers), presenting its
 * session id. Only then can it learn that the session expired. Requests are pipelined with at most
 * `maxInFlight` outstanding; requests outstanding on a lost connection are re-sent after
 * reconnecting (Kafka's retryRequestsUntilConnected), and fail with SESSIONEXPIRED on expiry.
 * Watches are one-shot and re-registered on reconnect (SetWatches).
 * The server answers a session's requests and pings in the order it got them; a reply that
 * overtakes an earlier unanswered request means the stream lost something, and the client drops
 * the connection and reconnects, as ClientCnxn.SendThread.readResponse does on "Xid out of order"
 * (a lossy link can lose a message whose TCP stream would have stalled instead).
 */
export class ZooKeeperClient {
  state: 'CONNECTING' | 'CONNECTED' | 'CLOSED' = 'CONNECTING';
  sessionId = 0;
  private server = -1;
  private lastZxid: Zxid = 0;
  private inPos = 0;
  private nextCxid = 1;
  private readonly outstanding = new Map<number, Pending>();
  private readonly waiting: Pending[] = [];
  private waitHead = 0;
  private readonly watches = new Map<string, WatchReg>();
  private lastHeardUs = 0;
  private lastSentUs = 0;
  private timer = -1;
  /** Send-stream positions of this connection: requests and pings, in order. */
  private sendSeq = 0;
  private readonly pingSeqs: number[] = [];
  private negotiatedMs: number;
  /** The current connection attempt (socket); the first is numbered above every one of an earlier incarnation. */
  private conn: number;
  /** How many sessions this client has had (Kafka re-creates one after expiry). */
  sessionsCreated = 0;

  constructor(
    private readonly node: SimNode,
    private readonly servers: readonly SimNode[],
    private readonly opts: ZooKeeperClientOptions,
  ) {
    this.negotiatedMs = opts.sessionTimeoutMs;
    this.server = node.rng.int(servers.length);
    this.conn = node.incarnation * 1_000_000;
  }

  /** Warm start: the session already exists and this client is connected to `server`. */
  adopt(sessionId: number, server: number, lastZxid: Zxid): void {
    this.sessionId = sessionId;
    this.server = server;
    this.lastZxid = lastZxid;
    this.state = 'CONNECTED';
    this.lastHeardUs = this.node.monoNowUs;
    this.lastSentUs = this.node.monoNowUs;
    this.arm();
  }

  /** Warm start: a watch this client registered before t = 0. */
  adoptWatch(path: string, kind: WatchReg['kind']): void {
    this.watches.set(path, { path, kind });
  }

  connect(): void {
    this.state = 'CONNECTING';
    this.sendConnect();
  }

  get connected(): boolean {
    return this.state === 'CONNECTED';
  }

  get inFlight(): number {
    return this.outstanding.size;
  }

  get serverIndex(): number {
    return this.server;
  }

  private get readTimeoutUs(): number {
    return (this.negotiatedMs * 1000 * 2) / 3;
  }

  private sendConnect(): void {
    const watches = [...this.watches.values()];
    this.conn++;
    this.node.send(this.servers[this.server]!, { type: 'ConnectRequest', conn: this.conn, sessionId: this.sessionId, timeoutMs: this.opts.sessionTimeoutMs, lastZxidSeen: this.lastZxid, watches }, CONNECT_REQUEST_BYTES + watches.length * SET_WATCHES_BYTES_PER_WATCH);
    this.lastSentUs = this.node.monoNowUs;
    this.lastHeardUs = this.node.monoNowUs;
    this.node.cancelTimer(this.timer);
    // ClientCnxn: connectTimeout = sessionTimeout / number of servers.
    this.timer = this.node.setTimer('zk-connect-timeout', (this.opts.sessionTimeoutMs * 1000) / this.servers.length, () => {
      if (this.state !== 'CONNECTING') return;
      this.nextServer();
      this.startConnect();
    });
  }

  /**
   * ClientCnxn.SendThread.startConnect: every connection attempt of a ClientCnxn but its first
   * sleeps a random 0–1000 ms first (so clients of a failed server do not reconnect in a herd).
   * A paused client that resumes with a dead connection therefore learns of its session's expiry
   * up to a second late — the zombie controller's window.
   */
  private startConnect(): void {
    const delayUs = this.node.rng.int(1000) * 1000;
    this.node.cancelTimer(this.timer);
    this.timer = this.node.setTimer('zk-reconnect-sleep', delayUs, () => {
      if (this.state === 'CONNECTING') this.sendConnect();
    });
  }

  private nextServer(): void {
    this.server = (this.server + 1) % this.servers.length;
  }

  /** The liveness timer: ping when idle for readTimeout/2, give up on the server after readTimeout. */
  private arm(): void {
    this.node.cancelTimer(this.timer);
    const now = this.node.monoNowUs;
    const pingAt = this.lastSentUs + this.readTimeoutUs / 2;
    const deadAt = this.lastHeardUs + this.readTimeoutUs;
    this.timer = this.node.setTimer('zk-client-tick', Math.max(0, Math.min(pingAt, deadAt) - now), () => this.tick());
  }

  private tick(): void {
    if (this.state !== 'CONNECTED') return;
    const now = this.node.monoNowUs;
    // Compared with the same deadlines arm() computed, so a timer that fires is always due.
    if (now >= this.lastHeardUs + this.readTimeoutUs) {
      this.node.note('zk.client.timeout', this.server);
      this.disconnected();
      return;
    }
    if (now >= this.lastSentUs + this.readTimeoutUs / 2) {
      this.node.send(this.servers[this.server]!, { type: 'ZkPing', sessionId: this.sessionId }, this.opts.packetHeaderBytes ?? cost({}, 'zk.packet.header.bytes'));
      this.pingSeqs.push(++this.sendSeq);
      this.lastSentUs = now;
    }
    this.arm();
  }

  private disconnected(): void {
    this.state = 'CONNECTING';
    this.opts.onState('Disconnected');
    this.nextServer();
    this.startConnect();
  }

  onMessage(from: SimNode, msg: ZkClientMsg): void {
    if (this.state === 'CLOSED' || this.servers[this.server] !== from) return;
    switch (msg.type) {
      case 'ConnectResponse': {
        // An answer to an attempt given up on (held by a partition, say) arrives on a closed socket.
        if (this.state !== 'CONNECTING' || msg.conn !== this.conn) return;
        if (msg.expired) {
          this.expire();
          return;
        }
        const fresh = this.sessionId !== msg.sessionId;
        this.sessionId = msg.sessionId;
        this.negotiatedMs = msg.timeoutMs;
        if (fresh) this.sessionsCreated++;
        this.state = 'CONNECTED';
        this.inPos = msg.pos ?? 0;
        this.pingSeqs.length = 0;
        this.lastHeardUs = this.node.monoNowUs;
        this.node.note('zk.client.connected', this.server);
        this.arm();
        // Re-send what the lost connection left unanswered, in order, then what was waiting.
        const again = [...this.outstanding.values()].sort((a, b) => a.cxid - b.cxid);
        for (const p of again) {
          if (!p.once) {
            this.transmit(p);
            continue;
          }
          this.outstanding.delete(p.cxid);
          p.cb({ code: 'CONNECTIONLOSS', zxid: 0 });
        }
        this.opts.onState('SyncConnected');
        this.pump();
        return;
      }
      case 'ZkResponse': {
        if (this.gap(msg.pos)) return;
        this.heard();
        const p = this.outstanding.get(msg.cxid);
        if (p === undefined) return;
        if (this.overtaken(p.seq)) return;
        this.outstanding.delete(msg.cxid);
        if (msg.response.zxid > this.lastZxid) this.lastZxid = msg.response.zxid;
        p.cb(msg.response);
        this.pump();
        return;
      }
      case 'ZkPingResponse': {
        if (this.gap(msg.pos)) return;
        this.heard();
        const seq = this.pingSeqs.shift();
        if (seq !== undefined) this.overtaken(seq);
        return;
      }
      case 'WatcherEvent': {
        if (this.gap(msg.pos)) return;
        this.heard();
        const w = this.watches.get(msg.path);
        if (w !== undefined) this.watches.delete(msg.path);
        this.opts.onWatch(msg.path, msg.event);
        return;
      }
      case 'ConnectionClosed':
        if (this.state === 'CONNECTED') this.disconnected();
        return;
      default:
        assertNever(msg as never);
    }
  }

  /** TCP stream check: a duplicate is discarded; a gap (a lost packet) breaks the connection. */
  private gap(pos: number | undefined): boolean {
    if (this.state !== 'CONNECTED' || pos === undefined) return false;
    if (pos <= this.inPos) return true;
    if (pos > this.inPos + 1) {
      this.node.note('zk.client.stream.gap', pos);
      this.disconnected();
      return true;
    }
    this.inPos = pos;
    return false;
  }

  /** A reply for stream position `seq` while an earlier request is unanswered: reconnect. */
  private overtaken(seq: number): boolean {
    if (this.state !== 'CONNECTED') return false;
    for (const p of this.outstanding.values()) {
      if (p.seq < seq) {
        this.node.note('zk.client.xid.out.of.order', p.cxid);
        this.disconnected();
        return true;
      }
    }
    return false;
  }

  private heard(): void {
    this.lastHeardUs = this.node.monoNowUs;
  }

  /** The session is gone: every request fails, watches are lost, the owner decides what next. */
  private expire(): void {
    this.node.note('zk.client.expired', this.sessionId);
    this.state = 'CLOSED';
    this.node.cancelTimer(this.timer);
    this.watches.clear();
    const failed = [...this.outstanding.values()].sort((a, b) => a.cxid - b.cxid);
    this.outstanding.clear();
    this.opts.onState('Expired');
    for (const p of failed) p.cb({ code: 'SESSIONEXPIRED', zxid: 0 });
  }

  /**
   * Kafka's ZooKeeperClient.reinitialize: a new ZooKeeper handle, so a new ClientCnxn whose first
   * connect does not sleep (requests still waiting go out on the new session).
   */
  reinitialize(): void {
    this.sessionId = 0;
    this.lastZxid = 0;
    this.nextServer();
    this.connect();
  }

  /**
   * ZooKeeper.close() at a clean shutdown: a closeSession request, so the server deletes the
   * session's ephemerals at once instead of when it would expire; then the handle is closed. Like
   * ClientCnxn, it does not wait past readTimeout for the answer, and a handle that is not connected
   * just closes (the session then expires at the server).
   */
  closeSession(then: () => void): void {
    if (this.state !== 'CONNECTED') {
      this.close();
      then();
      return;
    }
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      this.close();
      then();
    };
    this.write([{ type: 'closeSession' }], finish);
    this.node.setTimer('zk-close-timeout', this.readTimeoutUs, finish);
  }

  /** Closes for good (the node shuts down): requests fail. */
  close(): void {
    this.state = 'CLOSED';
    this.node.cancelTimer(this.timer);
  }

  write(ops: readonly Op[], cb: Callback, writerEpoch = -1): void {
    this.enqueue({ kind: 'write', ops }, writerEpoch, cb);
  }

  /**
   * A write as a plain ZooKeeper client (zookeeper-shell) makes it: when the connection is lost
   * before its answer it is not re-sent (Kafka's retryRequestsUntilConnected is Kafka's own) but
   * answered CONNECTIONLOSS once the client has reconnected.
   */
  writeOnce(ops: readonly Op[], cb: Callback): void {
    this.waiting.push({ cxid: this.nextCxid++, request: { kind: 'write', ops }, writerEpoch: -1, cb, once: true, seq: 0 });
    this.pump();
  }

  read(op: ReadOp, cb: Callback): void {
    if (op.type !== 'sync' && op.type !== 'getPartitionState' && op.type !== 'getPartitionStates' && op.watch) this.watches.set(op.path, { path: op.path, kind: op.type === 'getChildren' ? 'child' : op.type === 'exists' ? 'exist' : 'data' });
    this.enqueue({ kind: 'read', op }, -1, cb);
  }

  private enqueue(request: Request, writerEpoch: number, cb: Callback): void {
    this.waiting.push({ cxid: this.nextCxid++, request, writerEpoch, cb, once: false, seq: 0 });
    this.pump();
  }

  /** Sends waiting requests while fewer than maxInFlight are outstanding. */
  private pump(): void {
    while (this.state === 'CONNECTED' && this.outstanding.size < this.opts.maxInFlight && this.waitHead < this.waiting.length) {
      const p = this.waiting[this.waitHead++]!;
      this.outstanding.set(p.cxid, p);
      this.transmit(p);
    }
    if (this.waitHead > 1024 && this.waitHead * 2 > this.waiting.length) {
      this.waiting.splice(0, this.waitHead);
      this.waitHead = 0;
    }
  }

  private transmit(p: Pending): void {
    p.seq = ++this.sendSeq;
    this.node.send(this.servers[this.server]!, { type: 'ZkRequest', sessionId: this.sessionId, cxid: p.cxid, request: p.request, writerEpoch: p.writerEpoch }, chunkRequestBytes(p.request) ?? this.opts.requestBytes(p.request));
    this.lastSentUs = this.node.monoNowUs;
  }

  /** Requests not yet answered, waiting or in flight. */
  get backlog(): number {
    return this.outstanding.size + this.waiting.length - this.waitHead;
  }
}

/** A chunk carries the wire size of the requests it stands for. */
function chunkRequestBytes(r: Request): number | undefined {
  if (r.kind === 'read') return r.op.type === 'getPartitionStates' ? r.op.requestBytes : undefined;
  const first = r.ops[0];
  return first !== undefined && first.type === 'partitionStates' ? first.chunk.requestBytes : undefined;
}
