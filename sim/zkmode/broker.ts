import type { Message, NodeBehavior, SimNode } from '../../core/index.ts';
import type { CostModel } from '../cluster/cost.ts';
import { RoleWork, writeLeaderEpochCheckpoints } from '../cluster/broker-work.ts';
import { BrokerMetadataCache } from '../cluster/cache.ts';
import type { ClusterLayout } from '../cluster/layout.ts';
import type { ObservationChannel } from '../cluster/observe.ts';
import { PartitionStateBatch, type PartitionTable } from '../cluster/partitions.ts';
import { ZooKeeperClient, type KeeperState } from '../zookeeper/client.ts';
import { isZkClientMsg, type Request, type WatchEventType } from '../zookeeper/types.ts';
import { BROKER_IDS_PATH, CONTROLLER_PATH, KafkaController, type ControllerStats } from './controller.ts';
import { CONTROL_RESPONSE_BODY_BYTES, CONTROLLED_SHUTDOWN_BODY_BYTES, StatesPool, type ControlChunk, type ControlError, type ZkModeMsg } from './messages.ts';
import { ISR_CHANGE_PATH, ReplicaManager, type ReplicaStats } from './replica.ts';

/** MultiHeader (zookeeper.jute): type 4 + done 1 + err 4. */
const MULTI_HEADER_BYTES = 9;

export interface BrokerEnv {
  readonly brokers: readonly SimNode[];
  readonly zkServers: readonly SimNode[];
  readonly layout: ClusterLayout;
  readonly costs: CostModel;
  /** Where the model reports what it does (the tracker and the invariants listen). */
  readonly obs: ObservationChannel;
  /** Partition states as the ZooKeeper leader committed them (the committed tree): ground truth. */
  readonly committed: PartitionTable;
  readonly sessionTimeoutMs: number;
  readonly maxInFlight: number;
  readonly socketTimeoutMs: number;
  readonly bugs: ReadonlySet<string>;
  readonly linearizableReads: boolean;
  readonly stats: ControllerStats;
  readonly audit: BrokerAudit;
  /** replica.fetch.wait.max.ms */
  readonly replicaFetchWaitMaxMs: number;
  /** zkmode.alter.partition.retry.ms */
  readonly alterPartitionRetryMs: number;
  /** zk.broker.registration.retry.ms */
  readonly registrationRetryMs: number;
  /** replica.lag.time.max.ms */
  readonly replicaLagTimeMaxMs: number;
  /** isr.change.notification.enable: the IBP < 2.7 ISR path. */
  readonly isrChangeNotification: boolean;
  readonly isrNotification: { readonly lingerMs: number; readonly maxDelayMs: number; readonly checkMs: number };
  readonly replicaStats: ReplicaStats;
  readonly controlledShutdown: { readonly maxRetries: number; readonly backoffMs: number };
  /** The controller epoch committed in ZooKeeper (/controller_epoch at the leader): ground truth. */
  readonly committedControllerEpoch: () => number;
}

/** Ground truth for the broker-side safety properties. */
export interface BrokerAudit {
  staleControllerEpochAccepted: string | null;
  staleBrokerEpochAccepted: string | null;
  acceptedStaleBrokerEpoch: number;
  rejectedStaleController: number;
  rejectedStaleBroker: number;
  /**
   * Split brain as brokers see it: control requests accepted from a controller epoch older than
   * the one committed in ZooKeeper (a zombie's late requests reaching a broker that has not yet
   * heard from the new controller), and the partition states they put into broker caches.
   */
  acceptedFromOldController: number;
  statesFromOldController: number;
}

/**
 * A Kafka broker in ZooKeeper mode: a ZooKeeper session holding its ephemeral registration
 * /brokers/ids/<id> (whose czxid is its broker epoch, KIP-380), a watch on /controller (re-elect
 * when it goes), a KafkaController that is active while this broker holds /controller, and the
 * handling of LeaderAndIsr / UpdateMetadata: reject an older controller epoch
 * (STALE_CONTROLLER_EPOCH) or an older broker epoch (STALE_BROKER_EPOCH, unless KAFKA-7235);
 * apply LeaderAndIsr per partition only for a newer leader epoch; apply UpdateMetadata as sent.
 */
export class ZkBroker implements NodeBehavior {
  readonly zk: ZooKeeperClient;
  readonly controller: KafkaController;
  brokerEpoch = -1;
  controllerEpochSeen = 0;
  /** The controller this broker's metadata names (ZK mode: from the last accepted control request). */
  controllerId = -1;
  readonly replicas: ReplicaManager;
  /**
   * This broker's metadata: every partition state it accepted (UpdateMetadata as sent, LeaderAndIsr
   * states with a newer leader epoch). Volatile: a new process starts with an empty one.
   */
  readonly cache: BrokerMetadataCache;
  /** Batches for the states of shared control chunks, given back once a chunk is handled. */
  private readonly statesPool = new StatesPool();
  private readonly accepted = new Map<number, number>();

  constructor(
    readonly node: SimNode,
    readonly id: number,
    private readonly env: BrokerEnv,
  ) {
    const self = this;
    this.cache = new BrokerMetadataCache(env.layout, id);
    this.replicas = new ReplicaManager(
      {
        node,
        id,
        env,
        get zk() {
          return self.zk;
        },
        get controllerId() {
          return self.controllerId;
        },
        get brokerEpoch() {
          return self.brokerEpoch;
        },
        get controllerEpoch() {
          return self.controllerEpochSeen;
        },
      },
      env.replicaStats,
    );
    const pathBytes = env.costs.zk.znodePathBytes;
    const packetBytes = env.costs.zk.packetHeaderBytes;
    this.zk = new ZooKeeperClient(node, env.zkServers, {
      sessionTimeoutMs: env.sessionTimeoutMs,
      maxInFlight: env.maxInFlight,
      onState: (s) => this.onZkState(s),
      onWatch: (path, ev) => this.onWatch(path, ev),
      // A read: packet header + path (+ watch flag). A multi: packet header + MultiHeader per op
      // (type 4 + done 1 + err 4 = 9) with its path, data length 4 and version 4, then the closing
      // MultiHeader (MultiOperationRecord, zookeeper.jute).
      requestBytes: (r: Request) =>
        r.kind === 'read'
          ? packetBytes + pathBytes + 1
          : packetBytes + MULTI_HEADER_BYTES + r.ops.length * (MULTI_HEADER_BYTES + pathBytes + 8) + (r.ops.some((o) => o.type === 'setPartitionState') ? env.costs.zk.partitionStateZnodeBytes : 0),
      packetHeaderBytes: packetBytes,
    });
    this.controller = new KafkaController({
      node,
      brokerId: id,
      brokers: env.brokers,
      layout: env.layout,
      costs: env.costs,
      obs: env.obs,
      committed: env.committed,
      zk: () => this.zk,
      socketTimeoutMs: env.socketTimeoutMs,
      maxInFlight: env.maxInFlight,
      noEpochFence: env.bugs.has('KAFKA-6082'),
      noBrokerEpoch: env.bugs.has('KAFKA-7235'),
      linearizableReads: env.linearizableReads,
      stats: env.stats,
      bugs: env.bugs,
      isrChangeNotification: env.isrChangeNotification,
      controllerEpochSeen: () => this.controllerEpochSeen,
    });
  }

  /** Warm start: registered with this epoch, cache already full (the layout's initial states, equal to truth). */
  warm(epoch: number): void {
    this.brokerEpoch = epoch;
    this.controllerEpochSeen = 1;
    this.controllerId = 0;
    this.replicas.warm();
  }

  /** Cold start or restart: empty cache, new session, then register and try to become controller. */
  coldStart(): void {
    this.cache.clear();
    this.env.obs.cacheReset(this.id);
    this.env.obs.serving(this.id, false);
    this.zk.connect();
  }

  private onZkState(s: KeeperState): void {
    if (s === 'Expired') {
      // KafkaController's Expire event: resign first, then a new session (ZooKeeperClient.reinitialize).
      this.needsRegister = true;
      this.env.obs.serving(this.id, false);
      this.controller.resign('session expired');
      this.zk.reinitialize();
    } else if (s === 'SyncConnected' && (this.brokerEpoch < 0 || this.needsRegister)) {
      this.register();
    }
  }

  private needsRegister = false;

  private register(): void {
    this.needsRegister = false;
    const sessionAtStart = this.zk.sessionId;
    const path = `${BROKER_IDS_PATH}/${this.id}`;
    const registered = (czxid: number): void => {
      this.brokerEpoch = czxid;
      this.node.note('broker.registered', this.brokerEpoch);
      this.env.obs.serving(this.id, true);
      this.zk.read({ type: 'exists', path: CONTROLLER_PATH, watch: true }, () => undefined);
      this.controller.elect();
    };
    this.zk.write([{ type: 'create', path, data: this.id, dataBytes: this.env.costs.zkmode.brokerRegistrationBytes, ephemeral: true, sequential: false }], (r) => {
      if (r.code === 'OK') {
        registered(r.createdZxids![0]!);
      } else if (r.code === 'NODEEXISTS' && this.zk.sessionId === sessionAtStart) {
        // KafkaZkClient.checkedEphemeralCreate: the create may have succeeded on a connection whose
        // reply was lost (the client re-sent it); a node owned by this session is ours.
        this.zk.read({ type: 'getData', path, watch: false }, (d) => {
          if (d.code === 'OK' && d.stat!.ephemeralOwner === sessionAtStart) registered(d.stat!.czxid);
          else this.node.setTimer('register-retry', this.env.registrationRetryMs * 1000, () => this.register());
        });
      } else if (r.code === 'NODEEXISTS' || r.code === 'SESSIONEXPIRED') {
        // The old session's registration is still there until it expires: try again.
        this.node.setTimer('register-retry', this.env.registrationRetryMs * 1000, () => {
          if (this.zk.sessionId === sessionAtStart || r.code === 'NODEEXISTS') this.register();
        });
      }
    });
  }

  private onWatch(path: string, ev: WatchEventType): void {
    if (path === CONTROLLER_PATH) {
      if (ev === 'NodeDeleted') this.env.obs.milestone('detect');
      // ControllerChange / Reelect: if we are active and someone else now holds it, resign; try to elect.
      this.controller.elect();
    } else if (path === ISR_CHANGE_PATH) {
      if (this.controller.active) this.controller.onIsrChangeNotification();
    } else if (path === BROKER_IDS_PATH) {
      if (this.controller.active) {
        this.env.obs.milestone('detect');
        this.controller.onBrokerChange();
      }
    }
  }

  onMessage(from: SimNode, raw: Message): void {
    if (isZkClientMsg(raw)) {
      this.zk.onMessage(from, raw);
      return;
    }
    const msg = raw as ZkModeMsg;
    switch (msg.type) {
      case 'LeaderAndIsr':
      case 'UpdateMetadata':
        this.onControlChunk(from, msg.type, msg);
        return;
      case 'LeaderAndIsrResponse':
      case 'UpdateMetadataResponse':
        this.controller.onControlResponse(from, msg.requestId, msg.error);
        return;
      case 'Fetch':
        this.replicas.onFetch(msg.brokerId);
        return;
      case 'AlterPartition':
        this.controller.onAlterPartition(from, msg);
        return;
      case 'AlterPartitionResponse':
        this.replicas.onAlterPartitionResponse(msg.requestId, msg.error, msg.states, msg.errors);
        return;
      case 'ControlledShutdown':
        this.controller.onControlledShutdown(from, msg);
        return;
      case 'ControlledShutdownResponse':
        this.onControlledShutdownResponse(msg.requestId, msg.error, msg.partitionsRemaining);
        return;
      default: {
        const never: never = msg;
        throw new Error(`ZkBroker: unexpected message ${String(never)}`);
      }
    }
  }

  private respond(to: SimNode, type: 'LeaderAndIsr' | 'UpdateMetadata', requestId: number, error: ControlError): void {
    this.node.send<ZkModeMsg>(to, { type: type === 'LeaderAndIsr' ? 'LeaderAndIsrResponse' : 'UpdateMetadataResponse', requestId, error }, this.env.costs.rpcHeaderBytes + CONTROL_RESPONSE_BODY_BYTES);
  }

  private onControlChunk(from: SimNode, type: 'LeaderAndIsr' | 'UpdateMetadata', m: ControlChunk): void {
    const env = this.env;
    // KafkaServer.startup starts processing requests only after registerBroker returned the broker
    // epoch: a restarted broker that has not registered yet leaves control requests unanswered (the
    // controller's send thread times out and retries), it does not apply them.
    if (this.brokerEpoch < 0) return;
    if (m.chunkIndex === 0) {
      const audit = env.audit;
      if (m.controllerEpoch < this.controllerEpochSeen && !env.bugs.has('zk.no-controller-epoch-check')) {
        audit.rejectedStaleController++;
        this.respond(from, type, m.requestId, 'STALE_CONTROLLER_EPOCH');
        return;
      }
      const staleBroker = m.brokerEpoch >= 0 && this.brokerEpoch >= 0 && m.brokerEpoch < this.brokerEpoch;
      if (staleBroker && !env.bugs.has('KAFKA-7235')) {
        audit.rejectedStaleBroker++;
        this.respond(from, type, m.requestId, 'STALE_BROKER_EPOCH');
        return;
      }
      if (staleBroker) {
        audit.acceptedStaleBrokerEpoch++;
        audit.staleBrokerEpochAccepted ??= `broker ${this.id} (epoch ${this.brokerEpoch}) accepted ${type} aimed at its old epoch ${m.brokerEpoch}`;
      }
      if (m.controllerEpoch < this.controllerEpochSeen) audit.staleControllerEpochAccepted ??= `broker ${this.id} accepted controller epoch ${m.controllerEpoch} after seeing ${this.controllerEpochSeen}`;
      this.controllerEpochSeen = Math.max(this.controllerEpochSeen, m.controllerEpoch);
      this.controllerId = m.controllerId;
      if (m.controllerEpoch < env.committedControllerEpoch()) {
        audit.acceptedFromOldController++;
        this.node.note('broker.accepted.old.controller.epoch', m.controllerEpoch, type);
      }
      this.accepted.set(m.requestId, 0);
      this.node.note(type === 'LeaderAndIsr' ? 'broker.leader.and.isr' : 'broker.update.metadata', m.controllerEpoch);
    }
    if (!this.accepted.has(m.requestId)) return;
    const src = m.states;
    const fromOld = m.controllerEpoch < env.committedControllerEpoch();
    const finish = (applied: number): void => {
      if (fromOld) env.audit.statesFromOldController += applied;
      if (type === 'LeaderAndIsr' && !this.shuttingDown) this.replicas.start();
      const done = (this.accepted.get(m.requestId) ?? 0) + 1;
      if (done < m.chunks) {
        this.accepted.set(m.requestId, done);
        return;
      }
      this.accepted.delete(m.requestId);
      this.respond(from, type, m.requestId, 'NONE');
    };
    const handler = this.node.executor('request-handler');
    if (type === 'UpdateMetadata') {
      // ZkMetadataCache.updateMetadata: every partition state as sent.
      handler.submit(type, src.count * env.costs.broker.metadataApplyUsPerPartition, () => {
        const s = this.statesPool.take(src);
        // Consecutive partitions (each chunk of a full send) are copied column by column.
        this.cache.setBatch(s, s.count);
        env.obs.applied(this.id, s);
        this.statesPool.give(src, s);
        finish(s.count);
      });
      return;
    }
    // ReplicaManager.becomeLeaderOrFollower: only partitions whose leader epoch is newer than the
    // one this broker holds when the request is handled are made leader / follower; the rest are
    // examined and skipped. Counted when the handler reaches the chunk, against the state earlier
    // requests left. New leaders write their leader-epoch checkpoint (Partition.makeLeader →
    // LeaderEpochFileCache.assign) on the disk while the handler waits; the states count as
    // applied once that is done.
    const work = new RoleWork();
    const rm = this.replicas;
    // The chunk's states (made a batch when the handler reaches it, see SharedStates) and each
    // state's position among this broker's hosted partitions (-1: not hosted), found once.
    let s = null as unknown as PartitionStateBatch;
    let at = null as unknown as Int32Array;
    handler.submitBlocking(type, () => {
      s = this.statesPool.take(src);
      at = new Int32Array(s.count);
      const sp = s.partition;
      const sle = s.leaderEpoch;
      const sl = s.leader;
      for (let i = 0, last = -1; i < s.count; i++) {
        // A chunk lists hosted partitions mostly in ascending order: look after the last one first.
        const k = rm.positionOf(sp[i]!, last + 1);
        at[i] = k;
        if (k >= 0) last = k;
        if (sle[i]! <= rm.leaderEpochAt(k)) work.examined++;
        else {
          work.transitions++;
          if (sl[i] === this.id) work.newLeaders++;
        }
      }
      return work.cpuUs(env.costs.broker);
    }, (resume) => {
      writeLeaderEpochCheckpoints(this.node, work.newLeaders, env.costs.broker, () => {
        // The states with a newer leader epoch: all of the chunk (reported as it came), or a new batch.
        const sp = s.partition;
        const sl = s.leader;
        const sle = s.leaderEpoch;
        const spe = s.partitionEpoch;
        const si = s.isr;
        let newer = 0;
        for (let i = 0; i < s.count; i++) if (sle[i]! > rm.leaderEpochAt(at[i]!)) newer++;
        const out = newer === s.count ? s : newer > 0 ? PartitionStateBatch.ofSize(newer) : null;
        const cache = this.cache;
        let applied = 0;
        for (let i = 0; i < s.count; i++) {
          const k = at[i]!;
          const e = sle[i]!;
          if (e <= rm.leaderEpochAt(k)) continue;
          applied++;
          const p = sp[i]!;
          rm.applyAt(k, sl[i]!, e, spe[i]!, si[i]!);
          cache.set(p, sl[i]!, e, spe[i]!, si[i]!);
          if (out !== s) out!.push(p, sl[i]!, e, spe[i]!, si[i]!);
        }
        if (out !== null) env.obs.applied(this.id, out);
        this.statesPool.give(src, s);
        finish(applied);
        resume();
      });
    });
  }

  // ---- controlled shutdown (KafkaServer.controlledShutdown) ----

  private shuttingDown = false;
  private shutdown: { startUs: number; attempts: number; requestId: number; onDone: (ms: number, clean: boolean) => void } | null = null;

  /**
   * Sends ControlledShutdown(brokerId, brokerEpoch) to the controller its metadata names, waits up to
   * controller.socket.timeout.ms for the answer, and retries after controlled.shutdown.retry.backoff.ms
   * while partitions remain, at most controlled.shutdown.max.retries attempts; then the broker may
   * exit (cleanly if nothing remained). `onDone` gets the time from the first request to that point.
   */
  controlledShutdown(onDone: (ms: number, clean: boolean) => void): void {
    if (this.shutdown !== null) return;
    this.shuttingDown = true;
    // The broker stops its fetchers as the controller moves its replicas (StopReplica in Kafka).
    this.replicas.stopFetching();
    this.shutdown = { startUs: this.node.monoNowUs, attempts: 0, requestId: 0, onDone };
    this.node.note('broker.controlled.shutdown.start', this.id);
    this.sendControlledShutdown();
  }

  private sendControlledShutdown(): void {
    const s = this.shutdown!;
    s.attempts++;
    const requestId = ++s.requestId;
    const to = this.env.brokers[this.controllerId];
    if (to !== undefined) this.node.send<ZkModeMsg>(to, { type: 'ControlledShutdown', requestId, brokerId: this.id, brokerEpoch: this.brokerEpoch }, this.env.costs.rpcHeaderBytes + CONTROLLED_SHUTDOWN_BODY_BYTES);
    this.node.setTimer('controlled-shutdown-timeout', this.env.socketTimeoutMs * 1000, () => {
      if (s.requestId === requestId) this.controlledShutdownFailed();
    });
  }

  private onControlledShutdownResponse(requestId: number, error: ControlError, remaining: number): void {
    const s = this.shutdown;
    if (s === null || s.requestId !== requestId) return;
    s.requestId++;
    this.node.note('broker.controlled.shutdown.response', remaining, error);
    if (error === 'NONE' && remaining === 0) this.finishShutdown(true);
    else this.controlledShutdownFailed();
  }

  private controlledShutdownFailed(): void {
    const s = this.shutdown!;
    s.requestId++;
    if (s.attempts >= this.env.controlledShutdown.maxRetries) return this.finishShutdown(false);
    this.node.setTimer('controlled-shutdown-backoff', this.env.controlledShutdown.backoffMs * 1000, () => this.sendControlledShutdown());
  }

  private finishShutdown(clean: boolean): void {
    const s = this.shutdown!;
    const ms = (this.node.monoNowUs - s.startUs) / 1000;
    this.node.note('broker.controlled.shutdown.done', ms, clean ? 'clean' : 'retries exhausted');
    s.onDone(ms, clean);
  }
}
