import { assertNever, msToUs, type SimNode } from '../../core/index.ts';
import { ALTER_PARTITION_RESPONSE_BODY_BYTES, type CostModel } from '../cluster/cost.ts';
import type { ClusterLayout } from '../cluster/layout.ts';
import type { ObservationChannel } from '../cluster/observe.ts';
import { NO_LEADER, PartitionStateBatch } from '../cluster/partitions.ts';
import type { KafkaRaftClient } from '../raft/kafka-raft-client.ts';
import { LeaderState } from '../raft/leader-state.ts';
import type { RaftListener } from '../raft/raft-listener.ts';
import type { RaftSnapshot, RecordBatch } from '../raft/types.ts';
import { BrokerHeartbeatManager, calculateNextBrokerState, isFencedState } from './broker-heartbeat-manager.ts';
import type { KraftInvariants } from './kraft-invariants.ts';
import { MetadataImage, type ImageSnapshot } from './metadata-image.ts';
import { type AlterPartitionRequest, type AlterPartitionResponse, type BrokerHeartbeatRequest, type BrokerRegistrationRequest, type ControllerResponse } from './messages.ts';
import { batchBytes, MAX_RECORDS_PER_BATCH, recordCount, type BrokerRecord, type MetadataPayload, type MetadataRecords } from './records.ts';
import { electLeadersOnUnfence, removeBrokerFromPartitions } from './replication-control.ts';

export interface ControllerConfig {
  readonly sessionTimeoutMs: number;
  readonly noOpIntervalMs: number;
  readonly snapshotEveryBytes: number;
  readonly retentionBytes: number;
  readonly fenceMovesLeaders: boolean;
}

export interface ControllerContext {
  readonly layout: ClusterLayout;
  readonly partsOf: readonly Int32Array[];
  readonly cost: CostModel;
  readonly obs: ObservationChannel;
  readonly invariants: KraftInvariants;
  readonly config: ControllerConfig;
  readonly nodeOf: (id: number) => SimNode;
}

/**
 * QuorumController (KIP-631) on one controller node. As a standby it replays committed records
 * into its image on its single event thread; on the Raft leader it becomes active once the high
 * watermark passes its epoch start (the Raft client fires leadership only then), with a working
 * image that also holds its own uncommitted writes. The active controller fences brokers whose
 * heartbeats stop, moves their leaderships, unfences caught-up brokers, registers restarted ones
 * and appends a NoOpRecord every metadata.max.idle.interval.ms.
 */
export class QuorumController implements RaftListener<MetadataPayload, ImageSnapshot> {
  readonly committed: MetadataImage;
  private working: MetadataImage | null = null;
  private activeEpoch = -1;
  private readonly heartbeats: BrokerHeartbeatManager;
  private readonly events;
  private bytesSinceSnapshot = 0;
  private timers: number[] = [];
  private fenceTimer = -1;
  /** End offset of the last record this activation wrote, and of the last committed record replayed. */
  private lastWriteEnd = 0;
  private committedEnd = 0;
  /** End offset of what the committed image holds (replayed records and loaded snapshots). */
  private replayedEnd = 0;
  /** The active controller is loading until replayedEnd reaches this (its epoch start + 1); -1 when ready. */
  private readyAt = -1;
  /** Replies waiting for their writes to commit, in offset order. */
  private purgatory: { offset: number; to: SimNode; resp: ControllerResponse | AlterPartitionResponse }[] = [];
  /** Every SHUTDOWN_NOW granted (for tests: the offsets the grant was decided on). */
  readonly shutdownGrants: { broker: number; atUs: number; controlledShutdownOffset: number; lowestActiveOffset: number }[] = [];

  constructor(
    private readonly node: SimNode,
    private readonly raft: KafkaRaftClient<MetadataPayload, ImageSnapshot>,
    private readonly ctx: ControllerContext,
  ) {
    this.committed = new MetadataImage(ctx.layout);
    this.heartbeats = new BrokerHeartbeatManager(ctx.layout.brokers, msToUs(ctx.config.sessionTimeoutMs));
    // QuorumController's single event thread: replay, RPCs, fencing all queue on it.
    this.events = node.executor('quorum-controller');
  }

  get isActive(): boolean {
    return this.activeEpoch >= 0;
  }

  get epoch(): number {
    return this.activeEpoch;
  }

  private get usPerRecord(): number {
    return this.ctx.cost.kraft.controllerUsPerRecord;
  }

  // ---- RaftClient.Listener ----

  handleCommit(batches: readonly RecordBatch<MetadataPayload>[]): void {
    for (const b of batches) {
      const r = b.records;
      const end = b.baseOffset + b.count;
      if (b.control || r === null) {
        this.events.submit('replay', 0, () => this.completeUpTo(end));
        continue;
      }
      // The active controller already replayed its own writes when it made them.
      const own = this.isActive && b.epoch === this.activeEpoch;
      this.events.submit('replay', own ? 0 : recordCount(r) * this.usPerRecord, () => {
        this.committed.replay(r);
        this.bytesSinceSnapshot += b.sizeBytes;
        if (this.bytesSinceSnapshot >= this.ctx.config.snapshotEveryBytes) this.snapshot(b);
        this.completeUpTo(end);
      });
    }
  }

  /** KIP-630: a snapshot of the committed image every metadata.log.max.record.bytes.between.snapshots. */
  private snapshot(last: RecordBatch<MetadataPayload>): void {
    this.bytesSinceSnapshot = 0;
    const L = this.ctx.layout;
    const k = this.ctx.cost.kraft;
    const snap: RaftSnapshot<ImageSnapshot> = {
      endOffset: last.baseOffset + last.count,
      epoch: last.epoch,
      sizeBytes: L.partitions * k.snapshotBytesPerPartition + L.brokers * k.registerBrokerRecordBytes,
      recordCount: L.partitions + L.topics + L.brokers,
      image: this.committed.toSnapshot(),
    };
    this.node.note('kraft.snapshot', snap.endOffset);
    this.raft.createSnapshot(snap, this.ctx.config.retentionBytes);
  }

  handleLoadSnapshot(s: RaftSnapshot<ImageSnapshot>): void {
    // Loading is per record; the image is swapped in when the last chunk is done.
    const chunks = Math.max(1, Math.ceil(s.recordCount / MAX_RECORDS_PER_BATCH));
    for (let i = 0; i < chunks; i++) {
      const n = Math.min(MAX_RECORDS_PER_BATCH, s.recordCount - i * MAX_RECORDS_PER_BATCH);
      this.events.submit('load-snapshot', n * this.usPerRecord, i === chunks - 1 ? () => {
        this.committed.loadSnapshot(s.image);
        this.replayed(s.endOffset);
      } : () => {});
    }
  }

  handleLeaderChange(leaderId: number, epoch: number): void {
    if (leaderId === this.node.id) {
      // Queued behind the replay of everything committed so far (KAFKA-17333).
      this.events.submit('activate', 0, () => {
        if (this.raft.isActiveLeader && this.raft.epoch === epoch && !this.isActive) this.activate(epoch);
      });
    } else if (this.isActive) {
      this.renounce();
    }
  }

  private activate(epoch: number): void {
    if (this.working === null) this.working = new MetadataImage(this.ctx.layout, true);
    this.working.copyFrom(this.committed);
    this.activeEpoch = epoch;
    const w = this.working;
    this.heartbeats.activate(this.node.sim.nowUs, (b) => w.eligible(b));
    this.node.note('kraft.activate', epoch);
    this.ctx.invariants.onActivate(this.node, epoch);
    this.ctx.obs.controller(this.node.id, 'active');
    this.ctx.obs.milestone('elect');
    // Ready once the image holds everything committed before this epoch: the Raft client fires
    // handleLeaderChange only after the listener consumed past the epoch start offset
    // (KafkaRaftClient.ListenerContext.maybeFireLeaderChange), and activation queues behind that
    // replay, so a hot standby is ready the moment it activates (loadMs = 0). With
    // 'leader-change-before-commit' it activates earlier and loads until its replay catches up.
    const s = this.raft.quorum.state;
    this.readyAt = s instanceof LeaderState ? s.epochStartOffset + 1 : 0;
    this.replayed(this.replayedEnd);
    const noOp = (): void => {
      if (!this.isActive) return;
      this.events.submit('NoOpRecord', this.usPerRecord, () => this.write({ partitionChanges: null, brokers: [], noOps: 1 }));
      this.timers.push(this.node.setTimer('kraft.noop', msToUs(this.ctx.config.noOpIntervalMs), noOp));
    };
    this.timers.push(this.node.setTimer('kraft.noop', msToUs(this.ctx.config.noOpIntervalMs), noOp));
    this.scheduleFenceCheck();
  }

  /** QuorumController.renounce: back to standby; uncommitted writes are dropped. */
  private renounce(): void {
    this.node.note('kraft.renounce', this.activeEpoch);
    this.activeEpoch = -1;
    this.readyAt = -1;
    for (const t of this.timers) this.node.cancelTimer(t);
    this.timers = [];
    this.fenceTimer = -1;
    this.ctx.obs.controller(this.node.id, 'resigned');
    // Pending operations fail with NOT_CONTROLLER; the brokers look for the new controller.
    for (const d of this.purgatory) {
      const r = d.resp;
      const failed = r.type === 'BrokerRegistrationResponse' ? { type: 'BrokerRegistrationResponse', error: 'NOT_CONTROLLER', brokerEpoch: -1 }
        : r.type === 'AlterPartitionResponse' ? { ...r, error: 'NOT_CONTROLLER' }
        : { type: 'BrokerHeartbeatResponse', error: 'NOT_CONTROLLER', isFenced: true, shouldShutDown: false };
      this.node.send(d.to, failed, this.ctx.cost.kraft.brokerRpcBytes);
    }
    this.purgatory = [];
    this.lastWriteEnd = 0;
  }

  private write(r: MetadataRecords): void {
    if (!this.isActive) return;
    const end = this.raft.scheduleAppend(this.activeEpoch, r, recordCount(r), batchBytes(r, this.ctx.cost.kraft));
    if (end < 0) this.renounce();
    else this.lastWriteEnd = end;
  }

  // ---- fencing (BrokerHeartbeatManager + ReplicationControlManager) ----

  private scheduleFenceCheck(): void {
    if (!this.isActive) return;
    if (this.fenceTimer >= 0) this.node.cancelTimer(this.fenceTimer);
    const at = this.heartbeats.nextExpiryUs();
    if (at < 0) return;
    this.fenceTimer = this.node.setTimer('kraft.maybe-fence', Math.max(0, at - this.node.sim.nowUs), () => {
      this.fenceTimer = -1;
      // maybeFenceOneStaleBroker: the stale broker, its leader moves and ISR removals and its
      // FenceBrokerRecord are generated in this one event, which pays for every record.
      let stale = -1;
      const plan = (): number => {
        stale = this.isActive ? this.heartbeats.findOneStaleBroker(this.node.sim.nowUs) : -1;
        // The first reaction to the failure: the event that fences the broker starts.
        if (stale >= 0) this.ctx.obs.milestone('detect');
        return this.usPerRecord * (1 + (stale >= 0 ? 1 + this.touchedBy(stale) : 0));
      };
      this.events.submitPlanned('maybeFenceStaleBroker', plan, () => {
        if (!this.isActive) return;
        if (stale >= 0) this.fence(stale);
        this.scheduleFenceCheck();
      });
    });
    this.timers.push(this.fenceTimer);
  }

  private fence(b: number): void {
    this.node.note('kraft.fence', b);
    this.heartbeats.track(b, false, this.node.sim.nowUs);
    this.handleBrokerFenced(b, this.ctx.config.fenceMovesLeaders);
  }

  /** handleBrokerFenced, within the caller's event: b out of every ISR (and its leaderships moved), then the FenceBrokerRecord. */
  private handleBrokerFenced(b: number, moveLeaders: boolean): void {
    const w = this.working!;
    const rec: BrokerRecord = { type: 'FenceBrokerRecord', brokerId: b, brokerEpoch: w.brokerEpoch[b]! };
    const parts = this.ctx.partsOf[b]!;
    const out = PartitionStateBatch.ofSize(this.touchedBy(b));
    removeBrokerFromPartitions(w, b, parts, 0, parts.length, out, moveLeaders);
    w.replay({ partitionChanges: null, brokers: [rec], noOps: 0 });
    this.writeChanges(out, rec);
  }

  /**
   * handleBrokerFenced's records: the partition changes first, in batches of at most
   * MAX_RECORDS_PER_BATCH, then the broker's record (a FenceBrokerRecord follows the leader moves
   * it causes), in the last batch when it has room.
   */
  private writeChanges(changes: PartitionStateBatch, rec: BrokerRecord): void {
    let from = 0;
    for (;;) {
      const n = Math.min(MAX_RECORDS_PER_BATCH, changes.count - from);
      const last = from + n >= changes.count;
      const part = from === 0 && last ? changes : PartitionStateBatch.ofSize(n);
      if (part !== changes) for (let i = from; i < from + n; i++) part.push(changes.partition[i]!, changes.leader[i]!, changes.leaderEpoch[i]!, changes.partitionEpoch[i]!, changes.isr[i]!);
      if (last && n < MAX_RECORDS_PER_BATCH) {
        this.write({ partitionChanges: n > 0 ? part : null, brokers: [rec], noOps: 0 });
        return;
      }
      this.write({ partitionChanges: part, brokers: [], noOps: 0 });
      from += n;
      if (last) break;
    }
    this.write({ partitionChanges: null, brokers: [rec], noOps: 0 });
  }

  /**
   * Leader moves and ISR shrinks for broker b in chunks of ≤ 10,000 records, then `last` (if any).
   * A chunk costs per partition it touches (brokersToIsrs: the partitions whose ISR holds b).
   */
  private removeBroker(b: number, last: BrokerRecord | null, moveLeaders: boolean): void {
    const parts = this.ctx.partsOf[b]!;
    const epoch = this.activeEpoch;
    const t = this.working!.partitions;
    for (let from = 0; from < parts.length; from += MAX_RECORDS_PER_BATCH) {
      const to = Math.min(parts.length, from + MAX_RECORDS_PER_BATCH);
      let touched = 0;
      for (let i = from; i < to; i++) if (t.leader[parts[i]!] === b || t.isrHas(parts[i]!, b)) touched++;
      if (touched === 0) continue;
      this.events.submit('generateLeaderAndIsrUpdates', touched * this.usPerRecord, () => {
        if (this.activeEpoch !== epoch) return;
        const out = PartitionStateBatch.ofSize(to - from);
        removeBrokerFromPartitions(this.working!, b, parts, from, to, out, moveLeaders);
        if (out.count > 0) this.write({ partitionChanges: out, brokers: [], noOps: 0 });
      });
    }
    if (last === null) return;
    this.events.submit(last.type, this.usPerRecord, () => {
      if (this.activeEpoch !== epoch) return;
      this.working!.replay({ partitionChanges: null, brokers: [last], noOps: 0 });
      this.write({ partitionChanges: null, brokers: [last], noOps: 0 });
    });
  }

  /**
   * handleBrokerUnfenced: the UnfenceBrokerRecord, then a leader for every partition of the broker's
   * that has none and whose ISR holds it — generated in the heartbeat's own controller event, so
   * nothing else runs between the unfencing and the elections it causes.
   */
  private unfence(b: number): void {
    const w = this.working!;
    this.node.note('kraft.unfence', b);
    const rec: BrokerRecord = { type: 'UnfenceBrokerRecord', brokerId: b, brokerEpoch: w.brokerEpoch[b]! };
    w.replay({ partitionChanges: null, brokers: [rec], noOps: 0 });
    this.heartbeats.track(b, true, this.node.sim.nowUs);
    const parts = this.ctx.partsOf[b]!;
    const out = PartitionStateBatch.ofSize(this.electableOnUnfence(b));
    electLeadersOnUnfence(w, b, parts, 0, parts.length, out);
    this.writeTransition(rec, out);
  }

  /** Partitions of b's that unfencing b elects it to lead: leaderless, with b in the ISR. */
  private electableOnUnfence(b: number): number {
    const parts = this.ctx.partsOf[b]!;
    const t = this.working!.partitions;
    let n = 0;
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if (t.leader[p] === NO_LEADER && t.isrHas(p, b)) n++;
    }
    return n;
  }

  /** Partitions of b's whose leader is b or whose ISR holds b (brokersToIsrs for b). */
  private touchedBy(b: number): number {
    const parts = this.ctx.partsOf[b]!;
    const t = this.working!.partitions;
    let n = 0;
    for (let i = 0; i < parts.length; i++) if (t.leader[parts[i]!] === b || t.isrHas(parts[i]!, b)) n++;
    return n;
  }

  /**
   * Appends one heartbeat transition's records: the broker record first, then the partition
   * changes it causes, in batches of at most MAX_RECORDS_PER_BATCH records (a non-atomic
   * ControllerResult, split by the Raft client's batch limit). Returns the end offset of the last.
   */
  private writeTransition(rec: BrokerRecord, changes: PartitionStateBatch): void {
    const room = MAX_RECORDS_PER_BATCH - 1;
    if (changes.count <= room) {
      this.write({ partitionChanges: changes.count > 0 ? changes : null, brokers: [rec], noOps: 0, brokersFirst: true });
      return;
    }
    let from = 0;
    let first = true;
    while (from < changes.count) {
      const n = Math.min(first ? room : MAX_RECORDS_PER_BATCH, changes.count - from);
      const part = PartitionStateBatch.ofSize(n);
      for (let i = from; i < from + n; i++) part.push(changes.partition[i]!, changes.leader[i]!, changes.leaderEpoch[i]!, changes.partitionEpoch[i]!, changes.isr[i]!);
      this.write(first ? { partitionChanges: part, brokers: [rec], noOps: 0, brokersFirst: true } : { partitionChanges: part, brokers: [], noOps: 0 });
      from += n;
      first = false;
    }
  }

  /**
   * Records a heartbeat's state transition would write, as the controller will find the state when
   * the heartbeat's event starts: what the event costs beyond the heartbeat itself.
   */
  private transitionRecords(req: BrokerHeartbeatRequest): number {
    const w = this.working;
    if (!this.isActive || w === null) return 0;
    const b = req.brokerId;
    if (req.brokerEpoch !== w.brokerEpoch[b]) return 0;
    const { current, next } = calculateNextBrokerState(this.heartbeats, b, w.fenced[b] === 1, req, req.brokerEpoch, () => this.hasLeaderships(b));
    if (current === next) return 0;
    if (next === 'UNFENCED') return 1 + this.electableOnUnfence(b);
    if (next === 'CONTROLLED_SHUTDOWN') return 1 + this.touchedBy(b);
    if (next === 'SHUTDOWN_NOW' && w.fenced[b] === 0) return 1 + this.touchedBy(b);
    return 0;
  }

  // ---- broker RPCs ----

  handleRequest(from: SimNode, req: BrokerHeartbeatRequest | BrokerRegistrationRequest | AlterPartitionRequest): void {
    if (req.type === 'AlterPartition') return this.alterPartition(from, req);
    // A heartbeat that changes the broker's state writes that transition's records in the same
    // event (processBrokerHeartbeat returns them with the reply), and pays for them there.
    const plan = req.type === 'BrokerHeartbeat' ? (): number => this.usPerRecord * (1 + this.transitionRecords(req)) : (): number => this.usPerRecord;
    this.events.submitPlanned(req.type, plan, () => {
      const reply = (r: ControllerResponse): void => this.node.send(from, r, this.ctx.cost.kraft.brokerRpcBytes);
      if (!this.isActive) {
        if (req.type === 'BrokerRegistration') return reply({ type: 'BrokerRegistrationResponse', error: 'NOT_CONTROLLER', brokerEpoch: -1 });
        return reply({ type: 'BrokerHeartbeatResponse', error: 'NOT_CONTROLLER', isFenced: true, shouldShutDown: false });
      }
      if (req.type === 'BrokerRegistration') return this.register(from, req.brokerId);
      this.heartbeat(from, req);
    });
  }

  private register(from: SimNode, b: number): void {
    const w = this.working!;
    // A new incarnation: the old one's leaderships and ISR memberships go first, then the
    // registration (fenced) whose offset is the new broker epoch.
    const epoch = this.activeEpoch;
    const register = (): void => {
      if (this.activeEpoch !== epoch) return;
      const brokerEpoch = this.raft.nextAppendOffset;
      const rec: BrokerRecord = { type: 'RegisterBrokerRecord', brokerId: b, brokerEpoch, fenced: true };
      w.replay({ partitionChanges: null, brokers: [rec], noOps: 0 });
      this.write({ partitionChanges: null, brokers: [rec], noOps: 0 });
      this.heartbeats.track(b, false, this.node.sim.nowUs);
      this.replyAfterCommit(from, { type: 'BrokerRegistrationResponse', error: 'NONE', brokerEpoch });
    };
    if (w.eligible(b) || this.heartbeats.shuttingDown(b)) {
      this.removeBroker(b, { type: 'FenceBrokerRecord', brokerId: b, brokerEpoch: w.brokerEpoch[b]! }, true);
      this.events.submit('RegisterBrokerRecord', this.usPerRecord, register);
    } else {
      register();
    }
  }

  /**
   * ReplicationControlManager.processBrokerHeartbeat: the next BrokerControlState, the records of
   * the transition, then the reply — which, as for every controller write, is sent only once
   * everything written so far is committed (QuorumController's deferred event queue).
   */
  private heartbeat(from: SimNode, req: BrokerHeartbeatRequest): void {
    const w = this.working!;
    const b = req.brokerId;
    if (req.brokerEpoch !== w.brokerEpoch[b]) return this.node.send(from, { type: 'BrokerHeartbeatResponse', error: 'STALE_BROKER_EPOCH', isFenced: true, shouldShutDown: false }, this.ctx.cost.kraft.brokerRpcBytes);
    const hb = this.heartbeats;
    const { current, next } = calculateNextBrokerState(hb, b, w.fenced[b] === 1, req, req.brokerEpoch, () => this.hasLeaderships(b));
    if (current !== next) {
      switch (next) {
        case 'UNFENCED':
          this.unfence(b);
          break;
        case 'CONTROLLED_SHUTDOWN':
          this.enterControlledShutdown(b);
          break;
        case 'SHUTDOWN_NOW':
          // handleBrokerFenced: whatever ISRs it is still in, then the FenceBrokerRecord.
          if (w.fenced[b] === 0) this.handleBrokerFenced(b, true);
          this.node.note('kraft.shutdown-granted', b);
          this.shutdownGrants.push({ broker: b, atUs: this.node.sim.nowUs, controlledShutdownOffset: hb.controlledShutdownOffsetOf(b), lowestActiveOffset: hb.lowestActiveOffset() });
          break;
        case 'FENCED':
          break;
        default:
          assertNever(next);
      }
    }
    hb.touch(b, isFencedState(next), req.currentMetadataOffset, this.node.sim.nowUs);
    const resp: ControllerResponse = { type: 'BrokerHeartbeatResponse', error: 'NONE', isFenced: isFencedState(next), shouldShutDown: next === 'SHUTDOWN_NOW' };
    // Queued behind the transition's record chunks, so "everything written" includes them.
    const epoch = this.activeEpoch;
    this.events.submit('BrokerHeartbeat.reply', 0, () => {
      if (this.activeEpoch === epoch) this.replyAfterCommit(from, resp);
    });
    if (!isFencedState(next)) this.scheduleFenceCheck();
  }

  /**
   * handleBrokerInControlledShutdown: a BrokerRegistrationChangeRecord, then leadership moves to
   * other ISR members and removal from every ISR, all generated in the heartbeat's event; the
   * controlled shutdown offset is the end of the last of those records (processBatchEndOffset).
   */
  private enterControlledShutdown(b: number): void {
    const w = this.working!;
    this.node.note('kraft.controlled-shutdown', b);
    const rec: BrokerRecord = { type: 'BrokerRegistrationChangeRecord', brokerId: b, brokerEpoch: w.brokerEpoch[b]!, inControlledShutdown: true };
    w.replay({ partitionChanges: null, brokers: [rec], noOps: 0 });
    const parts = this.ctx.partsOf[b]!;
    const out = PartitionStateBatch.ofSize(this.touchedBy(b));
    removeBrokerFromPartitions(w, b, parts, 0, parts.length, out, true);
    this.writeTransition(rec, out);
    if (this.isActive) this.heartbeats.setControlledShutdownOffset(b, this.lastWriteEnd);
  }

  /**
   * ReplicationControlManager.alterPartition: per partition, the sender must still lead it at the
   * leader epoch and partition epoch it names (else FENCED_LEADER_EPOCH / INVALID_UPDATE_VERSION)
   * and every ISR member must be eligible — unfenced, not shutting down (else INELIGIBLE_REPLICA,
   * KIP-841). Accepted changes become PartitionChangeRecords (partition epoch + 1); the reply waits
   * for their commit.
   */
  private alterPartition(from: SimNode, req: AlterPartitionRequest): void {
    const st = req.states;
    const accepted = new Uint8Array(st.count);
    const partitions = st.partition.slice(0, st.count);
    const respond = (error: AlterPartitionResponse['error']): AlterPartitionResponse => ({ type: 'AlterPartitionResponse', error, partitions, accepted });
    const bytes = this.ctx.cost.rpcHeaderBytes + ALTER_PARTITION_RESPONSE_BODY_BYTES + st.count * this.ctx.cost.broker.alterPartitionResponseBytesPerPartition;
    this.events.submit('AlterPartition', Math.max(1, st.count) * this.usPerRecord, () => {
      if (!this.isActive) return this.node.send(from, respond('NOT_CONTROLLER'), bytes);
      const w = this.working!;
      if (req.brokerEpoch !== w.brokerEpoch[req.brokerId]) return this.node.send(from, respond('STALE_BROKER_EPOCH'), bytes);
      const t = w.partitions;
      const rf = t.rf;
      const out = PartitionStateBatch.ofSize(st.count);
      for (let i = 0; i < st.count; i++) {
        const p = st.partition[i]!;
        if (t.leader[p] !== req.brokerId || t.leaderEpoch[p] !== st.leaderEpoch[i] || t.partitionEpoch[p] !== st.partitionEpoch[i]) continue;
        const isr = st.isr[i]!;
        let ok = true;
        for (let s = 0; s < rf && ok; s++) if ((isr & (1 << s)) !== 0 && !w.eligible(t.replicas[p * rf + s]!)) ok = false;
        if (!ok) continue;
        const partitionEpoch = t.partitionEpoch[p]! + 1;
        t.set(p, t.leader[p]!, t.leaderEpoch[p]!, partitionEpoch, isr);
        out.push(p, t.leader[p]!, t.leaderEpoch[p]!, partitionEpoch, isr);
        accepted[i] = 1;
      }
      if (out.count > 0) this.write({ partitionChanges: out, brokers: [], noOps: 0 });
      this.replyAfterCommit(from, respond('NONE'));
    });
  }

  /** brokersToIsrs.hasLeaderships, on the working image. */
  private hasLeaderships(b: number): boolean {
    const parts = this.ctx.partsOf[b]!;
    const leader = this.working!.partitions.leader;
    for (let i = 0; i < parts.length; i++) if (leader[parts[i]!] === b) return true;
    return false;
  }

  /** Sends `resp` once every record written so far in this activation is committed. */
  private replyAfterCommit(to: SimNode, resp: ControllerResponse | AlterPartitionResponse): void {
    if (this.lastWriteEnd <= this.committedEnd) this.node.send(to, resp, this.ctx.cost.kraft.brokerRpcBytes);
    else this.purgatory.push({ offset: this.lastWriteEnd, to, resp });
  }

  /** The committed image now holds everything below `end`; the active controller may be done loading. */
  private replayed(end: number): void {
    if (end > this.replayedEnd) this.replayedEnd = end;
    if (this.readyAt < 0 || this.replayedEnd < this.readyAt || !this.isActive) return;
    this.readyAt = -1;
    this.node.note('kraft.ready', this.activeEpoch);
    this.ctx.obs.controller(this.node.id, 'ready');
    this.ctx.obs.milestone('load');
  }

  /** DeferredEventQueue.completeUpTo, on the event thread after the commit's replay. */
  private completeUpTo(end: number): void {
    if (end > this.committedEnd) this.committedEnd = end;
    this.replayed(end);
    let n = 0;
    while (n < this.purgatory.length && this.purgatory[n]!.offset <= this.committedEnd) {
      const d = this.purgatory[n++]!;
      this.node.send(d.to, d.resp, this.ctx.cost.kraft.brokerRpcBytes);
    }
    if (n > 0) this.purgatory.splice(0, n);
  }
}
