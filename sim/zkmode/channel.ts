import { DEFAULT_CONNECTION, type Connection, type ConnectionConfig, type SimNode } from '../../core/index.ts';
import type { CostModel } from '../cluster/cost.ts';
import { CONTROL_CHUNK_CONTINUATION_BYTES, type ChunkStates, type ZkModeMsg } from './messages.ts';

/** One queued controller request for one broker, its partition states already cut into chunks. */
export interface QueuedRequest {
  readonly type: 'LeaderAndIsr' | 'UpdateMetadata';
  readonly controllerEpoch: number;
  readonly brokerEpoch: number;
  readonly chunks: readonly ChunkStates[];
  readonly liveBrokers: readonly number[];
}

/** RequestSendThread's retry backoff after a failed send: ControllerChannelManager's RequestSendThread sleeps 100 ms (backoff) before reconnecting. */
export const SEND_RETRY_BACKOFF_MS = 100;

/**
 * The controller's NetworkClient per broker (ControllerChannelManager.addNewBroker): reconnect
 * backoff 0 and max 0; socket.connection.setup.timeout.ms and its max at their defaults.
 */
export const CONTROLLER_TO_BROKER_CONNECTION: ConnectionConfig = { ...DEFAULT_CONNECTION, reconnectBackoffMs: 0, reconnectBackoffMaxMs: 0 };

/**
 * ControllerChannelManager: one RequestSendThread per live broker, each sending ONE request at a
 * time on its own connection to the broker and waiting for its response before the next
 * (ControllerChannelManager.scala). RequestSendThread.doWork: brokerReady() waits up to
 * controller.socket.timeout.ms for the connection, then sendAndReceive waits for the answer up to the
 * NetworkClient's request timeout (request.timeout.ms, 30 s — the same default; the model uses
 * controller.socket.timeout.ms for both); on either failure it closes the connection
 * (networkClient.close: what it carried is lost), backs off 100 ms and sends the same request again
 * on a new connection, until it is answered or the broker is removed. Shutting the manager down
 * (controller resignation) drops what is queued — but what is already on the wire still arrives.
 */
export class ControllerChannelManager {
  private readonly threads = new Map<number, RequestSendThread>();
  private nextRequestId = 1;
  requestsSent = 0;
  retries = 0;

  constructor(
    readonly node: SimNode,
    readonly brokers: readonly SimNode[],
    readonly costs: CostModel,
    readonly socketTimeoutMs: number,
    readonly controllerId: number,
  ) {}

  addBroker(b: number): void {
    if (!this.threads.has(b)) this.threads.set(b, new RequestSendThread(this, b));
  }

  removeBroker(b: number): void {
    this.threads.get(b)?.shutdown();
    this.threads.delete(b);
  }

  has(b: number): boolean {
    return this.threads.has(b);
  }

  send(b: number, req: QueuedRequest): void {
    this.threads.get(b)?.enqueue(req);
  }

  shutdown(): void {
    for (const t of this.threads.values()) t.shutdown();
    this.threads.clear();
  }

  allocId(): number {
    return this.node.incarnation * 1e9 + this.nextRequestId++;
  }

  onResponse(from: SimNode, requestId: number, error: string): void {
    const b = this.brokers.indexOf(from);
    this.threads.get(b)?.onResponse(requestId, error);
  }

  /** Requests queued or in flight, over all brokers. */
  get backlog(): number {
    let n = 0;
    for (const t of this.threads.values()) n += t.backlog;
    return n;
  }
}

class RequestSendThread {
  private readonly queue: QueuedRequest[] = [];
  private inFlight: { req: QueuedRequest; id: number } | null = null;
  private timer = -1;
  private stopped = false;

  constructor(
    private readonly mgr: ControllerChannelManager,
    private readonly broker: number,
  ) {}

  get backlog(): number {
    return this.queue.length + (this.inFlight === null ? 0 : 1);
  }

  enqueue(req: QueuedRequest): void {
    this.queue.push(req);
    if (this.inFlight === null) this.next();
  }

  private next(): void {
    if (this.stopped) return;
    const req = this.queue.shift();
    if (req === undefined) return;
    this.inFlight = { req, id: this.mgr.allocId() };
    this.transmit();
  }

  private transmit(): void {
    const f = this.inFlight!;
    const { req, id } = f;
    const m = this.mgr;
    const c = m.costs.zkmode;
    const to = m.brokers[this.broker]!;
    const conn = m.node.connection(to, 'controller-channel', CONTROLLER_TO_BROKER_CONNECTION);
    m.requestsSent++;
    for (let i = 0; i < req.chunks.length; i++) {
      const states = req.chunks[i]!;
      const base = { controllerId: m.controllerId, controllerEpoch: req.controllerEpoch, brokerEpoch: req.brokerEpoch, requestId: id, chunkIndex: i, chunks: req.chunks.length, states };
      if (req.type === 'LeaderAndIsr') {
        conn.send({ type: 'LeaderAndIsr', ...base } satisfies ZkModeMsg, (i === 0 ? c.leaderAndIsrHeaderBytes : CONTROL_CHUNK_CONTINUATION_BYTES) + states.count * c.leaderAndIsrBytesPerPartition);
      } else {
        const brokersBytes = i === 0 ? req.liveBrokers.length * c.updateMetadataBytesPerLiveBroker : 0;
        conn.send({ type: 'UpdateMetadata', liveBrokers: req.liveBrokers, ...base } satisfies ZkModeMsg, (i === 0 ? c.updateMetadataHeaderBytes : CONTROL_CHUNK_CONTINUATION_BYTES) + brokersBytes + states.count * c.updateMetadataBytesPerPartition);
      }
    }
    m.node.cancelTimer(this.timer);
    this.armTimeout(f, m.node.sim.nowUs, conn);
  }

  private armTimeout(f: { req: QueuedRequest; id: number }, startUs: number, conn: Connection): void {
    const m = this.mgr;
    const sim = m.node.sim;
    const timeoutUs = m.socketTimeoutMs * 1000;
    this.timer = m.node.setTimer('controller-socket-timeout', Math.max(0, startUs + timeoutUs - sim.nowUs), () => {
      if (this.stopped || this.inFlight !== f) return;
      // Connected (and so sent) after the transmission began: sendAndReceive has its own full timeout.
      if (conn.ready && conn.readySinceUs > startUs) return this.armTimeout(f, conn.readySinceUs, conn);
      // brokerReady() or sendAndReceive failed: networkClient.close, back off, send the same request again.
      m.retries++;
      conn.close();
      this.timer = m.node.setTimer('controller-send-backoff', SEND_RETRY_BACKOFF_MS * 1000, () => {
        if (!this.stopped && this.inFlight === f) this.transmit();
      });
    });
  }

  onResponse(requestId: number, _error: string): void {
    if (this.inFlight === null || this.inFlight.id !== requestId) return;
    this.mgr.node.cancelTimer(this.timer);
    this.inFlight = null;
    this.next();
  }

  shutdown(): void {
    this.stopped = true;
    this.queue.length = 0;
    this.mgr.node.cancelTimer(this.timer);
  }
}
