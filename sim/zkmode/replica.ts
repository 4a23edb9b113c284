import type { SimNode } from '../../core/index.ts';
import { widenFor, type NarrowColumn } from '../cluster/cache.ts';
import { ALTER_PARTITION_REQUEST_BODY_BYTES } from '../cluster/cost.ts';
import { replicaIndex } from '../cluster/layout.ts';
import { PartitionStateBatch } from '../cluster/partitions.ts';
import type { BrokerEnv } from './broker.ts';
import { ALTER_NONE, MAX_STATES_PER_CHUNK, type ControlError, type ZkModeMsg } from './messages.ts';
import type { ZooKeeperClient } from '../zookeeper/client.ts';

export const ISR_CHANGE_PATH = '/isr_change_notification';
/** {"version":1,"partitions":[]}: the wrapper of an ISR-change notification (IsrChangeNotificationSequenceZNode). */
const ISR_CHANGE_NOTIFICATION_WRAPPER_BYTES = '{"version":1,"partitions":[]}'.length;
/** Partitions (global index range) per step of the ISR scan: one executor task each. */
const SCAN_CHUNK = 10_000;

/** What the replica manager needs from its broker. */
export interface ReplicaHost {
  readonly node: SimNode;
  readonly id: number;
  readonly env: BrokerEnv;
  readonly zk: ZooKeeperClient;
  /** The controller this broker's metadata names (the last controller whose request it accepted). */
  readonly controllerId: number;
  readonly brokerEpoch: number;
  readonly controllerEpoch: number;
}

/**
 * The part of ReplicaManager / Partition that changes ISRs. Each broker keeps the leader-side state
 * of its partitions (leader, leader epoch, ISR, zkVersion) from LeaderAndIsr. Follower liveness is
 * modelled per broker pair: a follower fetches from each broker it follows every
 * replica.fetch.wait.max.ms; a leader whose follower has not fetched for replica.lag.time.max.ms
 * (checked every half of it, Partition.maybeShrinkIsr on the isr-expiration task) shrinks it out of
 * the ISRs it leads, and adds it back once it fetches again (maybeExpandIsr). The change goes either
 * to the controller as AlterPartition (KIP-497), or — isr.change.notification.enable, IBP < 2.7 —
 * straight into ZooKeeper with a zkVersion check, announced by a sequential znode under
 * /isr_change_notification after lingerMs without change or maxDelayMs (ZkAlterPartitionManager).
 */
export class ReplicaManager {
  /** The partitions this broker hosts, ascending; the state below is indexed by position in it. */
  private readonly hosted: Int32Array;
  /** Position of partition p in `hosted`, by replica slot (ReplicaIndex.local). */
  private readonly local: Int32Array;
  // Leader, leader epoch and zkVersion are narrow columns (a byte each while the values fit,
  // widened on demand): written only through setLeader / setEpoch / setZkVersion.
  private leader: NarrowColumn;
  /** Leader epoch by position in `hosted` (-1 until a LeaderAndIsr set it); see leaderEpochOf. */
  private epoch: NarrowColumn;
  private readonly isr: Uint8Array;
  private zkVersion: NarrowColumn;
  /** An ISR change of this partition is in flight (Partition's pendingIsr). */
  private readonly pending: Uint8Array;
  /** Partitions this broker follows, per leader broker. */
  private readonly followCount: Int32Array;
  private readonly lastFetchUs: Float64Array;
  private readonly seen: Uint8Array;
  private readonly lagging: Uint8Array;
  /** Position in `hosted` of the first partition of each scan chunk (and the end, hosted.length). */
  private readonly chunkStart: Int32Array;
  /**
   * Per scan chunk c and broker r (index c * brokers + r), over the partitions of the chunk this
   * broker leads: how many have r as a follower in the ISR (`inIsr`) and out of it (`outIsr`). A
   * chunk where no lagging follower is in an ISR and no fetching one is out of one has nothing to
   * change, and the scan does not walk it (same decisions, same costed work).
   */
  private readonly inIsr: Int32Array;
  private readonly outIsr: Int32Array;
  fetching = false;
  private dirty = false;
  private scanning = false;
  private nextRequestId = 1;
  private readonly inflight = new Map<number, PartitionStateBatch>();
  /** The ISR scan's proposals of one chunk before they are sent. */
  private readonly scratch = PartitionStateBatch.ofSize(MAX_STATES_PER_CHUNK);
  // ZkAlterPartitionManager state
  private readonly isrChangeSet: number[] = [];
  private lastIsrChangeUs = 0;
  private lastPropagationUs = 0;
  /** Counters for the handle's extra(). */
  readonly stats: ReplicaStats;

  constructor(private readonly h: ReplicaHost, stats: ReplicaStats) {
    const { layout } = h.env;
    const P = layout.partitions;
    this.stats = stats;
    const index = replicaIndex(layout);
    this.hosted = index.hosted[h.id] ?? new Int32Array(0);
    this.local = index.local;
    const H = this.hosted.length;
    this.leader = new Int8Array(H).fill(-1);
    this.epoch = new Int8Array(H).fill(-1);
    this.isr = new Uint8Array(H);
    this.zkVersion = new Int8Array(H);
    this.pending = new Uint8Array(H);
    this.followCount = new Int32Array(layout.brokers);
    this.lastFetchUs = new Float64Array(layout.brokers).fill(h.node.monoNowUs);
    this.seen = new Uint8Array(layout.brokers);
    this.lagging = new Uint8Array(layout.brokers);
    this.lastPropagationUs = h.node.monoNowUs;
    const chunks = Math.ceil(P / SCAN_CHUNK);
    this.chunkStart = new Int32Array(chunks + 1);
    for (let c = 0, k = 0; c <= chunks; c++) {
      while (k < H && this.hosted[k]! < c * SCAN_CHUNK) k++;
      this.chunkStart[c] = k;
    }
    this.inIsr = new Int32Array(chunks * layout.brokers);
    this.outIsr = new Int32Array(chunks * layout.brokers);
  }

  /**
   * Adds (sign 1) or removes (-1) hosted partition k's part in the scan chunk counts: a partition
   * this broker leads without an ISR change in flight (the scan skips the others).
   */
  private tally(k: number, sign: number): void {
    const me = this.h.id;
    if (this.leader[k] !== me || this.pending[k] === 1) return;
    const { layout } = this.h.env;
    const rf = layout.replicationFactor;
    const p = this.hosted[k]!;
    const base = ((p / SCAN_CHUNK) | 0) * layout.brokers;
    const isr = this.isr[k]!;
    for (let i = 0; i < rf; i++) {
      const r = layout.replicas[p * rf + i]!;
      if (r === me) continue;
      if ((isr & (1 << i)) !== 0) this.inIsr[base + r]! += sign;
      else this.outIsr[base + r]! += sign;
    }
  }

  /** The ISR change of hosted partition k is no longer in flight. */
  private unpend(k: number): void {
    if (this.pending[k] === 0) return;
    this.pending[k] = 0;
    this.tally(k, 1);
  }

  /** Sets hosted partition k's ISR, keeping the scan chunk counts. */
  private setIsr(k: number, isr: number): void {
    this.tally(k, -1);
    this.isr[k] = isr;
    this.tally(k, 1);
  }

  private get notificationPath(): boolean {
    return this.h.env.isrChangeNotification;
  }

  /** The leader epoch this broker holds for p (-1: none, or p is not hosted here). */
  leaderEpochOf(p: number): number {
    const k = this.at(p);
    return k < 0 ? -1 : this.epoch[k]!;
  }

  /** The leader epoch held at position k of the hosted partitions (see positionOf). */
  leaderEpochAt(k: number): number {
    return k < 0 ? -1 : this.epoch[k]!;
  }

  /**
   * Position of hosted partition p in this broker's state (-1: not hosted here). `from`: where to
   * look first — the hosted list is ascending, so a few positions from there are scanned (cheap
   * for a request listing hosted partitions in order) before the replica slots are searched.
   */
  positionOf(p: number, from = -1): number {
    const hosted = this.hosted;
    if (from >= 0) {
      const end = Math.min(hosted.length, from + 32);
      for (let k = from; k < end; k++) {
        const q = hosted[k]!;
        if (q === p) return k;
        if (q > p) break;
      }
    }
    return this.at(p);
  }

  /** Position of hosted partition p in this broker's state (-1: not hosted here). */
  private at(p: number): number {
    const { layout } = this.h.env;
    const rf = layout.replicationFactor;
    for (let i = 0; i < rf; i++) if (layout.replicas[p * rf + i] === this.h.id) return this.local[p * rf + i]!;
    return -1;
  }

  /** Warm start: the state every replica got from the controller before t = 0. */
  warm(): void {
    const { layout } = this.h.env;
    const rf = layout.replicationFactor;
    const full = (1 << rf) - 1;
    const hosted = this.hosted;
    const me = this.h.id;
    const B = layout.brokers;
    // What apply() does for each, in one loop: leader = first replica, epochs 0, full ISR.
    for (let k = 0; k < hosted.length; k++) {
      const p = hosted[k]!;
      const leader = layout.replicas[p * rf]!;
      const old = this.leader[k]!;
      if (old !== leader) {
        if (old >= 0 && old !== me) this.followCount[old]!--;
        if (leader !== me) this.followCount[leader]!++;
      }
      if (old === me && this.pending[k] === 0) this.tally(k, -1);
      this.setLeader(k, leader);
      this.setEpoch(k, 0);
      this.setZkVersion(k, 0);
      this.isr[k] = full;
      this.pending[k] = 0;
      if (leader === me) {
        // Every follower in the ISR.
        const base = ((p / SCAN_CHUNK) | 0) * B;
        for (let i = 1; i < rf; i++) this.inIsr[base + layout.replicas[p * rf + i]!]!++;
      }
    }
    this.start();
  }

  /** Starts fetching and the periodic ISR tasks (on the first LeaderAndIsr after a (re)start). */
  start(): void {
    if (this.fetching) return;
    this.fetching = true;
    const node = this.h.node;
    const env = this.h.env;
    node.setTimer('replica-fetch', env.replicaFetchWaitMaxMs * 1000, this.onFetchTimer);
    node.setTimer('isr-expiration', (env.replicaLagTimeMaxMs * 1000) / 2, () => this.isrExpirationTick());
    if (this.notificationPath) node.setTimer('isr-change-propagation', env.isrNotification.checkMs * 1000, () => this.propagationTick());
  }

  /** Controlled shutdown: the broker stops its fetchers. */
  stopFetching(): void {
    this.fetching = false;
  }

  private setLeader(k: number, v: number): void {
    const c = this.leader;
    c[k] = v;
    if (c[k] !== v) this.leader = widenFor(c, k, v);
  }

  private setEpoch(k: number, v: number): void {
    const c = this.epoch;
    c[k] = v;
    if (c[k] !== v) this.epoch = widenFor(c, k, v);
  }

  private setZkVersion(k: number, v: number): void {
    const c = this.zkVersion;
    c[k] = v;
    if (c[k] !== v) this.zkVersion = widenFor(c, k, v);
  }

  /** LeaderAndIsr for p was accepted with a newer leader epoch (becomeLeaderOrFollower). */
  apply(p: number, leader: number, leaderEpoch: number, zkVersion: number, isr: number): void {
    this.applyAt(this.at(p), leader, leaderEpoch, zkVersion, isr);
  }

  /** apply() of the partition at position k of the hosted ones (see positionOf). */
  applyAt(k: number, leader: number, leaderEpoch: number, zkVersion: number, isr: number): void {
    const me = this.h.id;
    if (k < 0) return; // LeaderAndIsr names only a partition's replicas
    const old = this.leader[k]!;
    if (old !== leader) {
      if (old >= 0 && old !== me) this.followCount[old]!--;
      if (leader >= 0 && leader !== me) this.followCount[leader]!++;
    }
    this.tally(k, -1);
    this.setLeader(k, leader);
    this.setEpoch(k, leaderEpoch);
    this.setZkVersion(k, zkVersion);
    this.isr[k] = isr;
    this.pending[k] = 0;
    this.tally(k, 1);
    if (leader === me && isr !== (1 << this.h.env.layout.replicationFactor) - 1) this.dirty = true;
  }

  /** This broker's fetch message (the same content every time: one object). */
  private fetchMsg: ZkModeMsg | null = null;
  private readonly onFetchTimer = (): void => this.fetchTick();

  private fetchTick(): void {
    if (!this.fetching) return;
    const { brokers } = this.h.env;
    const msg = (this.fetchMsg ??= { type: 'Fetch', brokerId: this.h.id });
    for (let l = 0; l < this.followCount.length; l++) {
      if (this.followCount[l]! > 0) this.h.node.send<ZkModeMsg>(brokers[l]!, msg, this.h.env.costs.replicaFetchRequestBytes);
    }
    this.h.node.setTimer('replica-fetch', this.h.env.replicaFetchWaitMaxMs * 1000, this.onFetchTimer);
  }

  /** A follower's fetch arrived: it is caught up (cheap model: fetching = in sync). */
  onFetch(from: number): void {
    const now = this.h.node.monoNowUs;
    // A follower that had stopped fetching (restarted, or cut off) may have been taken out of ISRs
    // by the controller (controlled shutdown, broker failure) rather than by this leader; Kafka's
    // Partition.maybeExpandIsr runs on every follower fetch, so the leader looks again.
    if (this.seen[from] === 1 && now - this.lastFetchUs[from]! > 2 * this.h.env.replicaFetchWaitMaxMs * 1000) this.dirty = true;
    this.lastFetchUs[from] = now;
    this.seen[from] = 1;
    if (this.lagging[from] === 1) {
      this.lagging[from] = 0;
      this.dirty = true;
    }
    if (this.dirty) this.scan();
  }

  private isrExpirationTick(): void {
    const env = this.h.env;
    const now = this.h.node.monoNowUs;
    for (let f = 0; f < this.lagging.length; f++) {
      if (f === this.h.id || this.lagging[f] === 1) continue;
      if (now - this.lastFetchUs[f]! > env.replicaLagTimeMaxMs * 1000) {
        this.lagging[f] = 1;
        this.dirty = true;
        this.h.node.note('replica.follower.lagging', f);
      }
    }
    if (this.dirty) this.scan();
    this.h.node.setTimer('isr-expiration', (env.replicaLagTimeMaxMs * 1000) / 2, () => this.isrExpirationTick());
  }

  /** Walks the partitions this broker leads in chunks; proposes ISR shrinks and expansions. */
  private scan(): void {
    if (this.scanning) return;
    this.scanning = true;
    this.dirty = false;
    const env = this.h.env;
    const { layout } = env;
    const rf = layout.replicationFactor;
    const B = layout.brokers;
    const P = layout.partitions;
    const me = this.h.id;
    const now = this.h.node.monoNowUs;
    const hosted = this.hosted;
    const replicas = layout.replicas;
    const full = (1 << rf) - 1;
    const verdict = new Uint8Array(this.lagging.length);
    const costUs = env.costs.broker.isrCheckUsPerPartition;
    const fetchWindowUs = 2 * env.replicaFetchWaitMaxMs * 1000;
    const step = (from: number): void => {
      const to = Math.min(P, from + SCAN_CHUNK);
      this.h.node.executor('isr-expiration').submit('maybeShrinkOrExpandIsr', (to - from) * costUs, () => {
        const c = (from / SCAN_CHUNK) | 0;
        const end = this.chunkStart[c + 1]!;
        // Each follower's verdict for this range: lagging (leaves ISRs), fetching now (joins them:
        // Partition.maybeExpandIsr runs on its fetch), or neither. Only a led partition with a
        // lagging follower in its ISR or a fetching one out of it can change: the chunk counts say
        // whether this range has one.
        let anyLagging = false;
        let walk = false;
        const base = c * B;
        for (let r = 0; r < verdict.length; r++) {
          const v = r === me ? 0 : this.lagging[r] === 1 ? 1 : this.seen[r] === 1 && now - this.lastFetchUs[r]! <= fetchWindowUs ? 2 : 0;
          verdict[r] = v;
          if (v === 1) {
            anyLagging = true;
            if (this.inIsr[base + r]! > 0) walk = true;
          } else if (v === 2 && this.outIsr[base + r]! > 0) walk = true;
        }
        // Proposals collect in the one scratch batch; each is sent as an exact copy.
        const batch = this.scratch;
        batch.clear();
        for (let k = walk ? this.chunkStart[c]! : end; k < end; k++) {
          if (this.leader[k] !== me || this.pending[k] === 1) continue;
          const cur = this.isr[k]!;
          if (!anyLagging && cur === full) continue;
          const p = hosted[k]!;
          let next = cur;
          for (let i = 0; i < rf; i++) {
            const v = verdict[replicas[p * rf + i]!]!;
            if (v === 1) next &= ~(1 << i);
            else if (v === 2) next |= 1 << i;
          }
          if (next === cur) continue;
          this.tally(k, -1);
          this.pending[k] = 1;
          batch.push(p, me, this.epoch[k]!, this.zkVersion[k]!, next);
          if (batch.full) {
            this.submit(batch.copy());
            batch.clear();
          }
        }
        if (batch.count > 0) this.submit(batch.copy());
        if (to < P) step(to);
        else this.scanning = false;
      });
    };
    step(0);
  }

  private submit(batch: PartitionStateBatch): void {
    this.stats.isrChangesProposed += batch.count;
    if (this.notificationPath) this.writeZk(batch);
    else this.sendAlterPartition(this.nextRequestId++, batch);
  }

  // ---- KIP-497: AlterPartition to the controller ----

  private sendAlterPartition(requestId: number, batch: PartitionStateBatch): void {
    const h = this.h;
    this.inflight.set(requestId, batch);
    const to = h.env.brokers[h.controllerId];
    if (to !== undefined) {
      h.node.send<ZkModeMsg>(to, { type: 'AlterPartition', requestId, brokerId: h.id, brokerEpoch: h.brokerEpoch, states: batch }, h.env.costs.rpcHeaderBytes + ALTER_PARTITION_REQUEST_BODY_BYTES + batch.count * h.env.costs.broker.alterPartitionRequestBytesPerPartition);
    }
    h.node.setTimer('alter-partition-timeout', h.env.socketTimeoutMs * 1000, () => {
      if (this.inflight.get(requestId) !== batch) return;
      this.inflight.delete(requestId);
      this.retryAlter(batch);
    });
  }

  private retryAlter(batch: PartitionStateBatch): void {
    this.stats.alterPartitionRetries++;
    this.h.node.setTimer('alter-partition-backoff', this.h.env.alterPartitionRetryMs * 1000, () => this.sendAlterPartition(this.nextRequestId++, batch));
  }

  onAlterPartitionResponse(requestId: number, error: ControlError, states: PartitionStateBatch, errors: Uint8Array): void {
    const batch = this.inflight.get(requestId);
    if (batch === undefined) return;
    this.inflight.delete(requestId);
    if (error === 'NOT_CONTROLLER') {
      // KAFKA-14154: find the controller again (from newer metadata) and retry.
      this.stats.notController++;
      this.retryAlter(batch);
      return;
    }
    if (error !== 'NONE') {
      for (let i = 0; i < batch.count; i++) this.clearPending(batch.partition[i]!);
      return;
    }
    for (let i = 0; i < states.count; i++) {
      const p = states.partition[i]!;
      const k = this.at(p);
      if (k < 0) continue;
      this.unpend(k);
      if (errors[i] !== ALTER_NONE) continue;
      // Applied only if no newer LeaderAndIsr came meanwhile.
      if (states.leaderEpoch[i] === this.epoch[k] && states.partitionEpoch[i]! > this.zkVersion[k]!) {
        this.setIsr(k, states.isr[i]!);
        this.setZkVersion(k, states.partitionEpoch[i]!);
        // The committed ISR may lack followers that fetch now (maybeExpandIsr on their next fetch).
        if (this.isr[k] !== (1 << this.h.env.layout.replicationFactor) - 1) this.dirty = true;
      }
    }
  }

  // ---- IBP < 2.7: ZkAlterPartitionManager ----

  private writeZk(batch: PartitionStateBatch): void {
    const h = this.h;
    for (let i = 0; i < batch.count; i++) {
      const p = batch.partition[i]!;
      const isr = batch.isr[i]!;
      const leaderEpoch = batch.leaderEpoch[i]!;
      const version = batch.partitionEpoch[i]!;
      // ReplicationUtils.updateLeaderAndIsr: a conditional write at the zkVersion the leader holds.
      const state = { leader: h.id, leaderEpoch, controllerEpoch: this.controllerEpochOf(), isr };
      const committed = (newVersion: number): void => {
        const k = this.at(p);
        if (k < 0) return;
        this.unpend(k);
        if (newVersion < 0 || this.epoch[k] !== leaderEpoch) return;
        this.setIsr(k, isr);
        this.setZkVersion(k, newVersion);
        this.isrChangeSet.push(p);
        this.lastIsrChangeUs = h.node.monoNowUs;
      };
      h.zk.write([{ type: 'setPartitionState', partition: p, state, version }], (r) => {
        if (r.code === 'OK') return committed(version + 1);
        if (r.code !== 'BADVERSION') return committed(-1);
        // conditionalUpdatePath's checker (ReplicationUtils.checkLeaderAndIsrZkData): a write re-sent
        // after a lost connection (its first answer lost with it) finds its own state at the next
        // zkVersion; the znode holding exactly what it wrote counts as success at that version.
        h.zk.read({ type: 'getPartitionState', partition: p }, (c) => {
          const s = c.partitionState;
          const same = s !== undefined && s.leader === state.leader && s.leaderEpoch === state.leaderEpoch && s.controllerEpoch === state.controllerEpoch && s.isr === state.isr;
          committed(same ? s.version : -1);
        });
      });
    }
  }

  private clearPending(p: number): void {
    const k = this.at(p);
    if (k >= 0) this.unpend(k);
  }

  private controllerEpochOf(): number {
    return this.h.controllerEpoch;
  }

  /** maybePropagateIsrChanges: flush after lingerMs without a change, or maxDelayMs since the last flush. */
  private propagationTick(): void {
    const h = this.h;
    const cfg = h.env.isrNotification;
    const now = h.node.monoNowUs;
    if (this.isrChangeSet.length > 0 && (now - this.lastIsrChangeUs >= cfg.lingerMs * 1000 || now - this.lastPropagationUs >= cfg.maxDelayMs * 1000)) {
      const parts = Int32Array.from(this.isrChangeSet);
      this.isrChangeSet.length = 0;
      const before = this.lastPropagationUs;
      this.lastPropagationUs = now;
      this.stats.isrNotifications++;
      h.zk.write([{ type: 'create', path: `${ISR_CHANGE_PATH}/isr_change_`, data: parts, dataBytes: ISR_CHANGE_NOTIFICATION_WRAPPER_BYTES + h.env.costs.zkmode.isrChangeNotificationBytesPerPartition * parts.length, ephemeral: false, sequential: true }], (r) => {
        if (r.code === 'OK') return;
        // createSequentialPersistentPath threw (the session expired, say): the set is not cleared
        // and the propagation time not moved, so a later tick posts these changes again.
        for (const p of parts) this.isrChangeSet.push(p);
        if (this.lastPropagationUs === now) this.lastPropagationUs = before;
      });
      h.node.note('isr.change.notification', parts.length);
    }
    h.node.setTimer('isr-change-propagation', cfg.checkMs * 1000, () => this.propagationTick());
  }
}

export interface ReplicaStats {
  isrChangesProposed: number;
  alterPartitionRetries: number;
  notController: number;
  isrNotifications: number;
}
