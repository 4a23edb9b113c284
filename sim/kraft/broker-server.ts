import { DEFAULT_CONNECTION, msToUs, type ConnectionConfig, type SimNode } from '../../core/index.ts';
import type { ClusterTracker } from '../cluster/tracker.ts';
import type { KafkaRaftClient } from '../raft/kafka-raft-client.ts';
import type { RaftListener } from '../raft/raft-listener.ts';
import { NO_LEADER, type RaftSnapshot, type RecordBatch } from '../raft/types.ts';
import type { KraftInvariants } from './kraft-invariants.ts';
import type { ImageSnapshot } from './metadata-image.ts';
import { type BrokerHeartbeatRequest, type BrokerRegistrationRequest, type ControllerResponse } from './messages.ts';
import { MAX_RECORDS_PER_BATCH, type MetadataPayload } from './records.ts';
import type { KraftReplicaManager } from './replica-manager.ts';

/**
 * The BrokerLifecycleManager's channel to the controller (NodeToControllerChannelManagerImpl
 * .buildNetworkClient): reconnect backoff 50 ms, max 50 ms; socket.connection.setup.timeout.ms and
 * its max at their defaults.
 */
export const CONTROLLER_CHANNEL_CONNECTION: ConnectionConfig = { ...DEFAULT_CONNECTION, reconnectBackoffMs: 50, reconnectBackoffMaxMs: 50 };

export interface BrokerConfig {
  readonly heartbeatIntervalMs: number;
  readonly requestTimeoutMs: number;
  /** kraft.broker.to.controller.retry.ms: wait before re-sending when no controller is known or it answered NOT_CONTROLLER. */
  readonly retryBackoffMs: number;
  /** BrokerRegistration / BrokerHeartbeat bytes (cost model). */
  readonly rpcBytes: number;
  readonly applyUsPerRecord: number;
  /** Bug: apply fetched records before they are committed. */
  readonly appliesUncommitted: boolean;
}

/**
 * A KRaft broker's metadata side: its MetadataLoader is a listener of a Raft client (an observer
 * in isolated mode, the local voter in combined mode) and applies committed records to the
 * broker's metadata cache on its own thread at a cost per record, in chunks; its
 * BrokerLifecycleManager registers with the active controller and heartbeats every
 * broker.heartbeat.interval.ms, reporting how far it has applied the log.
 */
export class BrokerServer implements RaftListener<MetadataPayload, ImageSnapshot> {
  readonly readsUncommitted: boolean;
  /** Offset after the last record applied to the cache. */
  appliedOffset = 0;
  private brokerEpoch: number;
  private registering: boolean;
  private inFlight = -1;
  private requestSeq = 0;
  private controllerId = NO_LEADER;
  private readonly loader;
  private nextTimer = -1;
  /** BrokerLifecycleManager controlled shutdown: requested, first WantShutDown heartbeat sent, ShouldShutDown received. */
  wantShutDown = false;
  shutdownRequestedAtUs = -1;
  shutdownAllowedAtUs = -1;
  private gotControlledShutdownResponse = false;
  /** Called once the controller answers ShouldShutDown (the process then exits). */
  onShutdownAllowed: ((b: number) => void) | null = null;
  /** ISR expansion after the broker comes back (set by the builder). */
  replicas: KraftReplicaManager | null = null;
  /** As the last heartbeat answer said: fenced (a restarted or cold broker starts fenced). */
  private fenced: boolean;

  constructor(
    private readonly node: SimNode,
    readonly brokerId: number,
    private readonly raft: KafkaRaftClient<MetadataPayload, ImageSnapshot>,
    private readonly tracker: ClusterTracker,
    private readonly invariants: KraftInvariants,
    private readonly config: BrokerConfig,
    private readonly nodeOf: (id: number) => SimNode,
    warm: { brokerEpoch: number; appliedOffset: number } | null,
  ) {
    this.readsUncommitted = config.appliesUncommitted;
    this.loader = node.executor('metadata-loader');
    this.brokerEpoch = warm?.brokerEpoch ?? -1;
    this.registering = warm === null;
    this.fenced = warm === null;
    if (warm !== null) this.appliedOffset = warm.appliedOffset;
    else tracker.brokerCacheReset(brokerId);
  }

  start(): void {
    this.schedule(this.node.rng.int(msToUs(this.config.heartbeatIntervalMs)));
  }

  /** One pending wake-up at a time: the next heartbeat or retry. */
  private schedule(delayUs: number): void {
    if (this.nextTimer >= 0) this.node.cancelTimer(this.nextTimer);
    this.nextTimer = this.node.setTimer('kraft.broker-heartbeat', delayUs, () => {
      this.nextTimer = -1;
      this.communicate();
    });
  }

  // ---- MetadataLoader ----

  handleCommit(batches: readonly RecordBatch<MetadataPayload>[]): void {
    for (const b of batches) {
      const r = b.records;
      this.loader.submit('MetadataLoader.apply', b.count * this.config.applyUsPerRecord, () => {
        const pc = r?.partitionChanges ?? null;
        if (pc !== null) for (let i = 0; i < pc.count; i++) this.tracker.brokerApply(this.brokerId, pc.partition[i]!, pc.leader[i]!, pc.leaderEpoch[i]!, pc.partitionEpoch[i]!, pc.isr[i]!);
        this.appliedOffset = b.baseOffset + b.count;
        if (!b.control) this.invariants.onBrokerApply(this.node, b);
      });
    }
  }

  handleLoadSnapshot(s: RaftSnapshot<ImageSnapshot>): void {
    const img = s.image;
    const P = img.leader.length;
    this.node.note('kraft.broker-load-snapshot', s.endOffset);
    this.loader.submit('MetadataLoader.reset', 0, () => this.tracker.brokerCacheReset(this.brokerId));
    for (let from = 0; from < P; from += MAX_RECORDS_PER_BATCH) {
      const to = Math.min(P, from + MAX_RECORDS_PER_BATCH);
      this.loader.submit('MetadataLoader.snapshot', (to - from) * this.config.applyUsPerRecord, () => {
        for (let p = from; p < to; p++) this.tracker.brokerApply(this.brokerId, p, img.leader[p]!, img.leaderEpoch[p]!, img.partitionEpoch[p]!, img.isr[p]!);
      });
    }
    this.loader.submit('MetadataLoader.snapshot-done', 0, () => {
      this.appliedOffset = s.endOffset;
    });
  }

  /** The active controller as this broker knows it (for AlterPartition), or null. */
  get controllerNode(): SimNode | null {
    const id = this.controllerId !== NO_LEADER ? this.controllerId : this.raft.leaderId;
    return id === NO_LEADER ? null : this.nodeOf(id);
  }

  get currentBrokerEpoch(): number {
    return this.brokerEpoch;
  }

  handleLeaderChange(leaderId: number): void {
    this.controllerId = leaderId;
    if (leaderId !== NO_LEADER && this.inFlight < 0) this.communicate();
  }

  // ---- BrokerLifecycleManager ----

  /**
   * BeginControlledShutdownEvent: heartbeat with WantShutDown at once (or as soon as the heartbeat
   * in flight is answered) and keep heartbeating until the controller answers ShouldShutDown.
   */
  beginControlledShutdown(): void {
    if (this.wantShutDown) return;
    this.wantShutDown = true;
    if (this.inFlight < 0) this.communicate();
  }

  private communicate(): void {
    if (this.inFlight >= 0 || this.shutdownAllowedAtUs >= 0) return;
    const to = this.controllerId !== NO_LEADER ? this.controllerId : this.raft.leaderId;
    // NodeToControllerRequestThread: with no controller known it polls for one before sending.
    if (to === NO_LEADER) return this.schedule(msToUs(this.config.retryBackoffMs));
    if (this.nextTimer >= 0) this.node.cancelTimer(this.nextTimer);
    this.nextTimer = -1;
    const id = ++this.requestSeq;
    this.inFlight = id;
    const msg: BrokerRegistrationRequest | BrokerHeartbeatRequest = this.registering
      ? { type: 'BrokerRegistration', brokerId: this.brokerId, incarnation: this.node.incarnation }
      : { type: 'BrokerHeartbeat', brokerId: this.brokerId, brokerEpoch: this.brokerEpoch, currentMetadataOffset: this.appliedOffset, wantShutDown: this.wantShutDown };
    if (this.wantShutDown && !this.registering && this.shutdownRequestedAtUs < 0) {
      this.shutdownRequestedAtUs = this.node.sim.nowUs;
      this.node.note('kraft.want-shutdown', this.brokerId);
    }
    // On the lifecycle manager's own connection to that controller ("heartbeat" channel).
    const conn = this.node.connection(this.nodeOf(to), 'heartbeat', CONTROLLER_CHANNEL_CONNECTION);
    conn.send(msg, this.config.rpcBytes);
    this.node.setTimer('kraft.broker-request-timeout', msToUs(this.config.requestTimeoutMs), () => {
      if (this.inFlight !== id) return;
      // NetworkClient.handleTimedOutRequests: the connection is closed with what it carried;
      // NodeToControllerRequestThread forgets the controller and sends again (on a new connection).
      conn.expire();
      this.inFlight = -1;
      this.controllerId = NO_LEADER;
      this.communicate();
    });
  }

  handleResponse(r: ControllerResponse): void {
    if (this.inFlight < 0) return;
    this.inFlight = -1;
    if (r.error === 'NOT_CONTROLLER') {
      this.controllerId = NO_LEADER;
      // NodeToControllerRequestThread: NOT_CONTROLLER forgets the controller and re-queues the request.
      return this.schedule(msToUs(this.config.retryBackoffMs));
    }
    if (r.type === 'BrokerRegistrationResponse') {
      this.registering = false;
      this.brokerEpoch = r.brokerEpoch;
      return this.communicate();
    }
    if (r.error === 'STALE_BROKER_EPOCH') {
      this.registering = true;
      return this.communicate();
    }
    if (this.fenced && !r.isFenced && !this.wantShutDown) this.replicas?.onUnfenced();
    this.fenced = r.isFenced;
    if (this.wantShutDown) {
      if (r.shouldShutDown) {
        // SHUTTING_DOWN: no more heartbeats; the server stops.
        this.shutdownAllowedAtUs = this.node.sim.nowUs;
        this.node.note('kraft.controlled-shutdown-done', this.brokerId);
        this.onShutdownAllowed?.(this.brokerId);
        return;
      }
      // A heartbeat sent before the request: send the WantShutDown one now.
      if (this.shutdownRequestedAtUs < 0) return this.communicate();
      // PENDING_CONTROLLED_SHUTDOWN: the first answer is followed 50 ms later, in case the
      // shutdown completes quickly, then at the usual interval (BrokerLifecycleManager).
      const first = !this.gotControlledShutdownResponse;
      this.gotControlledShutdownResponse = true;
      if (first) return this.schedule(msToUs(50));
    }
    this.schedule(msToUs(this.config.heartbeatIntervalMs));
  }
}
