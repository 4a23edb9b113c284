import { DEFAULT_CONNECTION, msToUs, type ConnectionConfig, type SimNode } from '../../core/index.ts';
import { RoleWork, writeLeaderEpochCheckpoints } from '../cluster/broker-work.ts';
import { BrokerMetadataCache } from '../cluster/cache.ts';
import type { BrokerCosts } from '../cluster/cost.ts';
import { PartitionStateBatch } from '../cluster/partitions.ts';
import type { ClusterLayout } from '../cluster/layout.ts';
import type { ObservationChannel } from '../cluster/observe.ts';
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
  /** Broker work both modes share (cost model): metadata apply, makeLeader / makeFollower, leader-epoch checkpoints. */
  readonly costs: BrokerCosts;
  /** Bug: apply fetched records before they are committed. */
  readonly appliesUncommitted: boolean;
}

/**
 * A KRaft broker's metadata side: its MetadataLoader is a listener of a Raft client (an observer
 * in isolated mode, the local voter in combined mode) and applies committed records on its own
 * thread (`metadata-loader`) at a cost per record, in chunks; its BrokerLifecycleManager registers
 * with the active controller and heartbeats every broker.heartbeat.interval.ms, reporting how far
 * it has published the log.
 *
 * Publishing (BrokerMetadataPublisher.onMetadataUpdate, on the loader's thread) puts the new
 * partition states in the cache the broker acts on (`cache`, reported as applied) and runs
 * ReplicaManager.applyDelta: for the partitions this broker is a replica of whose partition epoch
 * changed, makeLeader / makeFollower — a full transition where the leader epoch changed, with the
 * new leader's leader-epoch checkpoint written and fsynced on the disk while the thread waits;
 * only the ISR and assignment otherwise (TopicsDelta.localChanges). A state counts as applied once
 * that work is done. The work is counted when the loader reaches the batch, against the states it
 * holds then.
 *
 * A restarted broker holds its loader's image aside and publishes nothing until it has caught up
 * to the high watermark (MetadataLoader.stillNeedToCatchUp: the HW is known and the image reaches
 * it); its cache is empty until then. Its first publish is the whole image, as
 * MetadataLoader.initializeNewPublishers hands a new publisher a delta from the empty image.
 */
export class BrokerServer implements RaftListener<MetadataPayload, ImageSnapshot> {
  readonly readsUncommitted: boolean;
  /** Offset after the last record published: applied to the cache the broker acts on (and reported in heartbeats). */
  appliedOffset = 0;
  /** Offset after the last record the loader has read into its image (past appliedOffset while catching up). */
  private loadedOffset = 0;
  /**
   * The metadata the broker has published and acts on (BrokerMetadataPublisher's image): the
   * layout's states on a warm start, empty on a restart until the loader has caught up.
   */
  readonly cache: BrokerMetadataCache;
  /** The loader's image while a restarted broker catches up (nothing it may act on); null once published. */
  private image: BrokerMetadataCache | null = null;
  private publishing = false;
  private catchUpTimer = -1;
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
    private readonly obs: ObservationChannel,
    layout: ClusterLayout,
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
    this.cache = new BrokerMetadataCache(layout, brokerId);
    if (warm !== null) {
      this.appliedOffset = warm.appliedOffset;
      this.loadedOffset = warm.appliedOffset;
    } else {
      this.cache.clear();
      obs.cacheReset(brokerId);
      this.image = new BrokerMetadataCache(layout, brokerId);
      this.image.clear();
    }
  }

  start(): void {
    if (this.image !== null) this.pollCatchUp();
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
      const end = b.baseOffset + b.count;
      this.submitStates('MetadataLoader.apply', b.records?.partitionChanges ?? null, b.count, () => {
        this.loadedOffset = end;
        if (this.image === null) this.appliedOffset = end;
        if (!b.control) this.invariants.onBrokerApply(this.node, b);
      });
    }
  }

  handleLoadSnapshot(s: RaftSnapshot<ImageSnapshot>): void {
    const img = s.image;
    const P = img.leader.length;
    this.node.note('kraft.broker-load-snapshot', s.endOffset);
    // MetadataLoader.handleLoadSnapshot: a delta from the current image to the snapshot's.
    for (let from = 0; from < P; from += MAX_RECORDS_PER_BATCH) {
      const to = Math.min(P, from + MAX_RECORDS_PER_BATCH);
      const states = PartitionStateBatch.ofSize(to - from);
      for (let p = from; p < to; p++) states.push(p, img.leader[p]!, img.leaderEpoch[p]!, img.partitionEpoch[p]!, img.isr[p]!);
      this.submitStates('MetadataLoader.snapshot', states, to - from, to < P ? null : () => {
        this.loadedOffset = s.endOffset;
        if (this.image === null) this.appliedOffset = s.endOffset;
      });
    }
  }

  /**
   * One loader task for `records` records carrying `states`. What it costs and does is decided when
   * the loader reaches it: while catching up, it only loads the image; once published, it also
   * pays makeLeader / makeFollower for the local partitions whose role changed and publishes.
   */
  private submitStates(label: string, states: PartitionStateBatch | null, records: number, after: (() => void) | null): void {
    const c = this.config.costs;
    const work = new RoleWork();
    let publish = false;
    this.loader.submitBlocking(label, () => {
      publish = this.image === null;
      if (publish && states !== null) this.countRoleWork(states, work);
      return records * c.metadataApplyUsPerPartition + work.cpuUs(c);
    }, (resume) => {
      if (!publish) {
        const image = this.image!;
        if (states !== null) for (let i = 0; i < states.count; i++) image.set(states.partition[i]!, states.leader[i]!, states.leaderEpoch[i]!, states.partitionEpoch[i]!, states.isr[i]!);
        after?.();
        resume();
        this.maybeFinishCatchUp();
        return;
      }
      writeLeaderEpochCheckpoints(this.node, work.newLeaders, c, () => {
        if (states !== null) this.publish(states);
        after?.();
        resume();
      });
    });
  }

  /** The states are in the cache the broker acts on. */
  private publish(states: PartitionStateBatch): void {
    const cache = this.cache;
    for (let i = 0; i < states.count; i++) cache.set(states.partition[i]!, states.leader[i]!, states.leaderEpoch[i]!, states.partitionEpoch[i]!, states.isr[i]!);
    this.obs.applied(this.brokerId, states);
  }

  /**
   * TopicsDelta.localChanges + ReplicaManager.applyLocalLeadersDelta / applyLocalFollowersDelta,
   * against the states this broker has published: a partition of which it is a replica and whose
   * partition epoch changed is made leader or follower; a full transition when the leader epoch
   * changed (Partition.makeLeader / makeFollower: isNewLeaderEpoch), and a new leader writes its
   * leader-epoch checkpoint.
   */
  private countRoleWork(states: PartitionStateBatch, work: RoleWork): void {
    const cache = this.cache;
    const me = this.brokerId;
    for (let i = 0; i < states.count; i++) {
      const p = states.partition[i]!;
      if (cache.partitionEpoch[p] === states.partitionEpoch[i] || cache.slotOf(p, me) < 0) continue;
      if (cache.leaderEpoch[p] === states.leaderEpoch[i]) {
        work.examined++;
        continue;
      }
      work.transitions++;
      if (states.leader[i] === me) work.newLeaders++;
    }
  }

  /**
   * MetadataLoader.stillNeedToCatchUp, checked after each load and every 100 ms
   * (initializeNewPublishers reschedules itself): once the high watermark is known and the image
   * reaches it, the whole image is published, in chunks, as a delta from the empty image.
   */
  private maybeFinishCatchUp(): void {
    const image = this.image;
    if (image === null || this.publishing) return;
    const hw = this.raft.hw;
    if (hw <= 0 || this.loadedOffset < hw) return;
    this.publishing = true;
    if (this.catchUpTimer >= 0) this.node.cancelTimer(this.catchUpTimer);
    this.catchUpTimer = -1;
    this.node.note('kraft.broker-caught-up', this.loadedOffset);
    const c = this.config.costs;
    const P = image.size;
    for (let from = 0; from < P; from += MAX_RECORDS_PER_BATCH) {
      const to = Math.min(P, from + MAX_RECORDS_PER_BATCH);
      const work = new RoleWork();
      const states = PartitionStateBatch.ofSize(to - from);
      this.loader.submitBlocking('MetadataLoader.initializeNewPublishers', () => {
        // The image as it is when this chunk is published (loads queued before it have run).
        for (let p = from; p < to; p++) states.push(p, image.leader[p]!, image.leaderEpoch[p]!, image.partitionEpoch[p]!, image.isr[p]!);
        this.countRoleWork(states, work);
        return states.count * c.metadataApplyUsPerPartition + work.cpuUs(c);
      }, (resume) => {
        writeLeaderEpochCheckpoints(this.node, work.newLeaders, c, () => {
          this.publish(states);
          if (to === P) {
            this.image = null;
            this.appliedOffset = this.loadedOffset;
            this.node.note('kraft.broker-published', this.appliedOffset);
          }
          resume();
        });
      });
    }
  }

  private pollCatchUp(): void {
    this.catchUpTimer = this.node.setTimer('MetadataLoader.initializeNewPublishers', msToUs(100), () => {
      this.catchUpTimer = -1;
      if (this.image === null || this.publishing) return;
      this.loader.submit('MetadataLoader.stillNeedToCatchUp', 0, () => this.maybeFinishCatchUp());
      this.pollCatchUp();
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
