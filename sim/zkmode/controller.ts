import type { SimNode } from '../../core/index.ts';
import type { CostModel } from '../cluster/cost.ts';
import { replicaIndex, type ClusterLayout } from '../cluster/layout.ts';
import type { ObservationChannel } from '../cluster/observe.ts';
import { NO_LEADER, PartitionStateBatch, PartitionTable } from '../cluster/partitions.ts';
import type { ZooKeeperClient } from '../zookeeper/client.ts';
import { ANY_VERSION, CHUNK_BADVERSION, CHUNK_FENCED, CHUNK_OK, type Op, type PartitionStateData, type PartitionWriteChunk, type Response } from '../zookeeper/types.ts';
import { ControllerChannelManager, type QueuedRequest } from './channel.ts';
import { MAX_STATES_PER_CHUNK, SharedStates, type ZkModeMsg } from './messages.ts';
import { processAlterPartition, processControlledShutdown, processIsrChangeNotification } from './controller-requests.ts';
import { ISR_CHANGE_PATH } from './replica.ts';

export const CONTROLLER_PATH = '/controller';
export const CONTROLLER_EPOCH_PATH = '/controller_epoch';
export const BROKER_IDS_PATH = '/brokers/ids';
export const TOPICS_PATH = '/brokers/topics';

/**
 * Partition-state reads and writes travel to ZooKeeper in chunks of at most this many requests
 * (one message, typed arrays), one chunk outstanding; a chunk stands for that many requests
 * pipelined zookeeper.max.in.flight.requests at a time, so its timing is theirs. The bound keeps a
 * chunk within about 50 ms of virtual time (reads and writes alike) at the default
 * costs, so a fault lands between chunks within that.
 */
export const ZK_READ_CHUNK = 1000;
export const ZK_WRITE_CHUNK = 200;
/** MultiHeader (type 4 + done 1 + err 4), as the broker's client sizes a multi (zookeeper.jute). */
const MULTI_HEADER_BYTES = 9;

export interface ControllerHost {
  readonly node: SimNode;
  readonly brokerId: number;
  readonly brokers: readonly SimNode[];
  readonly layout: ClusterLayout;
  readonly costs: CostModel;
  readonly obs: ObservationChannel;
  /** Partition states as the ZooKeeper leader committed them (the committed tree). */
  readonly committed: PartitionTable;
  readonly zk: () => ZooKeeperClient;
  readonly socketTimeoutMs: number;
  readonly maxInFlight: number;
  /** KAFKA-6082: controller writes not wrapped in a CheckOp on /controller_epoch's zkVersion. */
  readonly noEpochFence: boolean;
  /** KAFKA-7235: no broker epochs (no bounce detection by czxid). */
  readonly noBrokerEpoch: boolean;
  /** What-if: sync() before every read. */
  readonly linearizableReads: boolean;
  readonly stats: ControllerStats;
  readonly bugs: ReadonlySet<string>;
  /** isr.change.notification.enable: watch /isr_change_notification. */
  readonly isrChangeNotification: boolean;
  /** The highest controller epoch this broker has seen in control requests (what-if 'zk.controller-epoch-from-cache'). */
  readonly controllerEpochSeen: () => number;
}

export interface ControllerStats {
  zkReads: number;
  zkWrites: number;
  zkWriteConflicts: number;
  /** Partition states read at failover older than the state committed when the read (or its sync) was issued. */
  staleReads: number;
  lastLoadPartitions: number;
  /**
   * The last failover's context load: election won → every partition state read and the full
   * state queued to the brokers (initializeControllerContext + replicaStateMachine.startup), ms.
   * What Kafka 1.1's published failover load figure measures; loadMs runs on to "ready".
   */
  lastContextLoadMs?: number;
  /**
   * Of it, the walk of the ZooKeeper tree: election → every broker, topic and partition state read
   * and parsed into the ControllerContext (initializeControllerContext), before any request is
   * queued. LinkedIn measured this at ≈ 70 % of controller initialization (linkedin/kafka #347).
   */
  lastTreeWalkMs?: number;
  fencedWrites: number;
  /** ISR changes the controller committed for AlterPartition. */
  isrChangesCommitted: number;
}

type Step = (done: () => void) => void;

/**
 * KafkaController (ZooKeeper mode) on one broker. One event thread (ControllerEventManager): each
 * event runs to completion — including the ZooKeeper round trips it waits for — before the next,
 * and its CPU work is costed per partition on the 'controller-event-thread' executor.
 * Election: multi(create ephemeral /controller, setData /controller_epoch at its zkVersion).
 * Failover (onControllerFailover): read every broker, topic and partition state through the
 * pipelined ZooKeeper client (zookeeper.max.in.flight.requests), then UpdateMetadata (live
 * brokers), LeaderAndIsr for every replica and UpdateMetadata with every partition to every live
 * broker, then elect leaders for offline partitions. Every write is multi(CheckOp(controller
 * epoch zkVersion), op) (KAFKA-6082 fence).
 */
export class KafkaController {
  active = false;
  epoch = -1;
  private epochZkVersion = -1;
  ctx: PartitionTable | null = null;
  readonly liveBrokers = new Map<number, number>();
  channel: ControllerChannelManager | null = null;
  /** ControllerContext.shuttingDownBrokerIds */
  readonly shuttingDown = new Set<number>();
  /**
   * Partitions whose AlterPartition write came back BADVERSION: processAlterPartition answers
   * INVALID_UPDATE_VERSION and keeps its context without re-reading ZooKeeper, so the context (and
   * what it sends) may stay behind the committed state until an election or failover reads it.
   */
  readonly contextMaybeBehindZk = new Set<number>();
  /** Queued events from `head` on (consumed by index, not Array.shift: the queue can grow long). */
  private queue: { label: string; step: Step }[] = [];
  private head = 0;
  private running = false;
  /** Bumped on resignation: work of an older incarnation of the active role stops. */
  gen = 0;

  constructor(readonly h: ControllerHost) {}

  // ---- requests from brokers and ISR notifications (controller-requests.ts) ----

  onAlterPartition(from: SimNode, msg: Extract<ZkModeMsg, { type: 'AlterPartition' }>): void {
    this.put('AlterPartitionReceived', (done) => processAlterPartition(this, from, msg, done));
  }

  onControlledShutdown(from: SimNode, msg: Extract<ZkModeMsg, { type: 'ControlledShutdown' }>): void {
    this.put('ControlledShutdown', (done) => processControlledShutdown(this, from, msg, done));
  }

  onIsrChangeNotification(): void {
    this.put('IsrChangeNotification', (done) => processIsrChangeNotification(this, done));
  }

  // ---- event manager ----

  put(label: string, step: Step): void {
    this.queue.push({ label, step });
    if (!this.running) this.runNext();
  }

  /** ControllerEventManager.clearAndPut: drop queued events, run this one next. */
  clearAndPut(label: string, step: Step): void {
    this.queue = [];
    this.head = 0;
    this.put(label, step);
  }

  private runNext(): void {
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
      this.running = false;
      return;
    }
    const e = this.queue[this.head]!;
    this.queue[this.head++] = undefined!;
    if (this.head >= 1024 && this.head * 2 >= this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    this.running = true;
    this.h.node.note('controller.event', 0, e.label);
    e.step(() => this.h.node.after(0, () => this.runNext()));
  }

  cpu(label: string, costUs: number, then: () => void): void {
    this.h.node.executor('controller-event-thread').submit(label, costUs, then);
  }

  // ---- warm start ----

  warmActivate(epoch: number, epochZkVersion: number, live: ReadonlyMap<number, number>): void {
    this.epoch = epoch;
    this.epochZkVersion = epochZkVersion;
    this.ctx = new PartitionTable(this.h.layout, true);
    this.ctx.copyFrom(this.h.committed);
    for (const [b, e] of live) this.liveBrokers.set(b, e);
    this.becomeActive();
    this.h.obs.controller(this.h.node.id, 'ready');
  }

  private becomeActive(): void {
    this.active = true;
    this.h.obs.controller(this.h.node.id, 'active');
    this.h.node.note('controller.active', this.epoch);
    this.channel = new ControllerChannelManager(this.h.node, this.h.brokers, this.h.costs, this.h.socketTimeoutMs, this.h.brokerId);
    for (const b of this.liveBrokers.keys()) this.channel.addBroker(b);
  }

  onControlResponse(from: SimNode, requestId: number, error: string): void {
    this.channel?.onResponse(from, requestId, error);
  }

  get backlog(): number {
    return this.channel?.backlog ?? 0;
  }

  // ---- election (KafkaController.elect) ----

  elect(): void {
    this.put('Reelect', (done) => {
      const zk = this.h.zk();
      zk.read({ type: 'getData', path: CONTROLLER_PATH, watch: true }, (r) => {
        // processReelect → maybeResign: an active controller that no longer holds /controller
        // (deleted by an admin, or taken by another broker) resigns before it tries to elect.
        if (this.active && (r.code !== 'OK' || r.data !== this.h.brokerId)) this.resign('controller moved');
        if (r.code === 'OK') {
          done(); // someone is controller; the watch tells us when it goes away
          return;
        }
        const register = (epoch: number, version: number): void => {
          // registerControllerAndIncrementControllerEpoch: one multi, the epoch's zkVersion as fence.
          zk.write(
            [
              { type: 'create', path: CONTROLLER_PATH, data: this.h.brokerId, dataBytes: 40, ephemeral: true, sequential: false },
              { type: 'setData', path: CONTROLLER_EPOCH_PATH, data: epoch + 1, dataBytes: 4, version },
            ],
            (w) => {
              if (w.code !== 'OK') {
                // NODEEXISTS / BADVERSION: checkControllerAndEpoch. A multi re-sent after a lost
                // connection (its first answer lost with it) finds the /controller it created
                // itself: the broker won if /controller names it and /controller_epoch holds the
                // epoch it wrote. Otherwise another broker won (ControllerMovedException →
                // maybeResign: read /controller again and watch it).
                const moved = (): void => zk.read({ type: 'exists', path: CONTROLLER_PATH, watch: true }, () => done());
                zk.read({ type: 'getData', path: CONTROLLER_PATH, watch: false }, (c) => {
                  if (c.code !== 'OK' || c.data !== this.h.brokerId) return moved();
                  zk.read({ type: 'getData', path: CONTROLLER_EPOCH_PATH, watch: false }, (e) => {
                    if (e.code !== 'OK' || e.data !== epoch + 1) return moved();
                    this.epoch = epoch + 1;
                    this.epochZkVersion = e.stat!.version;
                    this.won(done);
                  });
                });
                return;
              }
              this.epoch = epoch + 1;
              if (version !== ANY_VERSION) {
                this.epochZkVersion = version + 1;
                this.won(done);
                return;
              }
              // The unconditional write told it no zkVersion: it reads the one it just wrote.
              zk.read({ type: 'getData', path: CONTROLLER_EPOCH_PATH, watch: false }, (e) => {
                this.epochZkVersion = e.stat?.version ?? -1;
                this.won(done);
              });
            },
            epoch + 1,
          );
        };
        // What-if 'zk.controller-epoch-from-cache': the new epoch is one more than the highest the
        // broker saw in LeaderAndIsr/UpdateMetadata, written unconditionally. A broker cut off from
        // the controllers (or restarted) while failovers happened holds an old epoch: it writes one
        // the ensemble has already seen.
        if (this.h.bugs.has('zk.controller-epoch-from-cache')) return register(this.h.controllerEpochSeen(), ANY_VERSION);
        zk.read({ type: 'getData', path: CONTROLLER_EPOCH_PATH, watch: false }, (e) => {
          if (e.code !== 'OK') return done();
          register(e.data as number, e.stat!.version);
        });
      });
    });
  }

  private electedAtUs = -1;

  private won(done: () => void): void {
    this.electedAtUs = this.h.node.sim.nowUs;
    this.h.obs.milestone('elect');
    this.becomeActive();
    const gen = this.gen;
    this.onControllerFailover(() => {
      // "Ready to serve as the new controller": onControllerFailover has returned — the reload,
      // the initial UpdateMetadata/LeaderAndIsr (replicaStateMachine.startup) and the leader
      // elections of partitions whose leader is dead (partitionStateMachine.startup) are done.
      // Until then the event thread handles nothing else: the controller is loading.
      if (gen === this.gen && this.active) {
        this.h.node.note('controller.ready', this.epoch);
        this.h.obs.controller(this.h.node.id, 'ready');
        this.h.obs.milestone('load');
      }
      done();
    });
  }

  /** The session expired or another controller was seen: onControllerResignation. */
  resign(reason: string): void {
    if (!this.active) return;
    this.active = false;
    this.gen++;
    this.shuttingDown.clear();
    this.h.node.note('controller.resign', this.epoch, reason);
    this.h.obs.controller(this.h.node.id, 'resigned');
    this.channel?.shutdown();
    this.channel = null;
  }

  // ---- ZooKeeper pipelines ----

  /** Runs n requests through the client with at most maxInFlight outstanding. */
  pipeline(n: number, issue: (i: number, cb: (r: Response) => void) => void, onResult: (i: number, r: Response) => void, onDone: () => void): void {
    let next = 0;
    let outstanding = 0;
    let finished = 0;
    if (n === 0) return onDone();
    const pump = (): void => {
      while (outstanding < this.h.maxInFlight && next < n) {
        const i = next++;
        outstanding++;
        issue(i, (r) => {
          outstanding--;
          finished++;
          onResult(i, r);
          if (finished === n) onDone();
          else pump();
        });
      }
    };
    pump();
  }

  read(op: Parameters<ZooKeeperClient['read']>[0], cb: (r: Response) => void): void {
    const zk = this.h.zk();
    this.h.stats.zkReads++;
    if (this.h.linearizableReads) zk.read({ type: 'sync' }, () => zk.read(op, cb));
    else zk.read(op, cb);
  }

  /**
   * Reads the states of `parts` (getTopicPartitionStatesRaw) in chunks of ZK_READ_CHUNK, one chunk
   * outstanding; `onChunk` gets each chunk's partitions and answer. With linearizable reads each
   * read is preceded by a sync() (the server pays its round trip per read, see ServerCnxns).
   */
  readStates(parts: Int32Array, onChunk: (chunk: Int32Array, r: Response) => void, onDone: () => void): void {
    const h = this.h;
    const perRead = h.costs.zk.packetHeaderBytes + h.costs.zk.znodePathBytes + 1;
    let from = 0;
    const next = (): void => {
      if (from >= parts.length) return onDone();
      const chunk = parts.subarray(from, Math.min(parts.length, from + ZK_READ_CHUNK));
      from += chunk.length;
      h.stats.zkReads += chunk.length;
      h.zk().read({ type: 'getPartitionStates', partitions: chunk, window: h.maxInFlight, requestBytes: chunk.length * (perRead + (h.linearizableReads ? h.costs.zk.packetHeaderBytes : 0)), sync: h.linearizableReads }, (r) => {
        onChunk(chunk, r);
        next();
      });
    };
    next();
  }

  /** Copies a chunk's answer into the context; returns how many states it held. */
  applyRead(chunk: Int32Array, r: Response): number {
    const s = r.partitionStates;
    if (s === undefined) return 0;
    const ctx = this.ctx!;
    let n = 0;
    for (let i = 0; i < chunk.length; i++) {
      if (s.version[i]! < 0) continue;
      ctx.set(chunk[i]!, s.leader[i]!, s.leaderEpoch[i]!, s.version[i]!, s.isr[i]!);
      n++;
    }
    return n;
  }

  /** A controller write, fenced by the controller epoch's zkVersion (unless KAFKA-6082). */
  write(ops: Op[], cb: (r: Response, fenced: boolean) => void): void {
    this.h.stats.zkWrites++;
    const wrapped: Op[] = this.h.noEpochFence ? ops : [{ type: 'check', path: CONTROLLER_EPOCH_PATH, version: this.epochZkVersion }, ...ops];
    this.h.zk().write(wrapped, (r) => cb(r, !this.h.noEpochFence && r.code === 'BADVERSION' && r.failedOp === 0), this.epoch);
  }

  /**
   * Conditional writes of new partition states (KafkaZkClient.updateLeaderAndIsr), each its own
   * multi fenced by the controller-epoch CheckOp (unless KAFKA-6082), in chunks of ZK_WRITE_CHUNK,
   * one chunk outstanding. `next` gives the state to write from the context, or null to leave the
   * partition alone; it runs when the partition's chunk is built. `written` holds what committed (the
   * context updated), `conflicts` the BADVERSIONs on the partition; `fenced` is true when a CheckOp
   * failed (ControllerMovedException).
   */
  writeStates(parts: readonly number[], next: (p: number) => PartitionStateData | null, done: (written: number[], conflicts: number[], fenced: boolean) => void): void {
    const h = this.h;
    const ctx = this.ctx!;
    const written: number[] = [];
    const conflicts: number[] = [];
    let fenced = false;
    const z = h.costs.zk;
    const fence = h.noEpochFence ? null : { path: CONTROLLER_EPOCH_PATH, version: this.epochZkVersion };
    const ops = fence === null ? 1 : 2;
    const perWrite = z.packetHeaderBytes + MULTI_HEADER_BYTES + ops * (MULTI_HEADER_BYTES + z.znodePathBytes + 8) + z.partitionStateZnodeBytes;
    let from = 0;
    const step = (): void => {
      // Build the next chunk of up to ZK_WRITE_CHUNK writes.
      // The chunk's columns: views of one buffer.
      const cap = Math.min(ZK_WRITE_CHUNK, parts.length - from);
      const buf = new ArrayBuffer(cap * 17);
      const partition = new Int32Array(buf, 0, cap);
      const leader = new Int32Array(buf, 4 * cap, cap);
      const leaderEpoch = new Int32Array(buf, 8 * cap, cap);
      const version = new Int32Array(buf, 12 * cap, cap);
      const isr = new Uint8Array(buf, 16 * cap, cap);
      let count = 0;
      while (from < parts.length && count < partition.length) {
        const p = parts[from++]!;
        const s = next(p);
        if (s === null) continue;
        partition[count] = p;
        leader[count] = s.leader;
        leaderEpoch[count] = s.leaderEpoch;
        isr[count] = s.isr;
        version[count] = ctx.partitionEpoch[p]!;
        count++;
      }
      if (count === 0) {
        if (from < parts.length) return step();
        return done(written, conflicts, fenced);
      }
      const chunk: PartitionWriteChunk = { count, partition, leader, leaderEpoch, isr, version, controllerEpoch: this.epoch, fence, window: h.maxInFlight, requestBytes: count * perWrite };
      h.stats.zkWrites += count;
      h.zk().write([{ type: 'partitionStates', chunk }], (r) => {
        const codes = r.chunkCodes;
        for (let i = 0; i < count; i++) {
          const code = codes === undefined ? -1 : codes[i]!;
          const p = partition[i]!;
          if (code === CHUNK_OK) {
            ctx.set(p, leader[i]!, leaderEpoch[i]!, version[i]! + 1, isr[i]!);
            written.push(p);
          } else if (code === CHUNK_FENCED) {
            h.stats.fencedWrites++;
            fenced = true;
          } else if (code === CHUNK_BADVERSION) {
            h.stats.zkWriteConflicts++;
            conflicts.push(p);
          }
        }
        if (from < parts.length) step();
        else done(written, conflicts, fenced);
      }, this.epoch);
    };
    step();
  }

  // ---- failover ----

  private onControllerFailover(done: () => void): void {
    const gen = this.gen;
    const h = this.h;
    const P = h.layout.partitions;
    this.liveBrokers.clear();
    this.contextMaybeBehindZk.clear();
    this.ctx ??= new PartitionTable(h.layout);
    const ctx = this.ctx;
    const truth = h.committed;
    h.node.note('controller.load.start', P);
    // initializeControllerContext: brokers, topics, assignments, every partition state.
    this.read({ type: 'getChildren', path: BROKER_IDS_PATH, watch: true }, (ids) => {
      const children = ids.children ?? [];
      this.pipeline(children.length, (i, cb) => this.read({ type: 'getData', path: `${BROKER_IDS_PATH}/${children[i]}`, watch: false }, cb), (i, r) => {
        if (r.code === 'OK') this.liveBrokers.set(Number(children[i]), r.stat!.czxid);
      }, () => {
        if (h.isrChangeNotification) this.read({ type: 'getChildren', path: ISR_CHANGE_PATH, watch: true }, () => undefined);
        this.read({ type: 'getChildren', path: TOPICS_PATH, watch: true }, (ts) => {
          const topics = ts.children ?? [];
          this.pipeline(topics.length, (i, cb) => this.read({ type: 'getData', path: `${TOPICS_PATH}/${topics[i]}`, watch: false }, cb), () => undefined, () => {
            let parsed = 0;
            let cpuPending = 0;
            let readsDone = false;
            let ended = false;
            const finish = (): void => {
              if (ended) return;
              // Resigned while loading (session expired, another controller seen): the event ends
              // (the reload's ZooKeeper calls fail with ControllerMovedException / session expiry
              // in Kafka), so the queue moves on — the resignation and a later Reelect run after it.
              if (gen !== this.gen) {
                ended = true;
                return done();
              }
              if (!readsDone || cpuPending > 0) return;
              ended = true;
              h.stats.lastLoadPartitions = P;
              h.stats.lastTreeWalkMs = (h.node.sim.nowUs - this.electedAtUs) / 1000;
              this.afterLoad(gen, done);
            };
            const flushCpu = (count: number): void => {
              cpuPending++;
              this.cpu('initializeControllerContext', count * h.costs.zkmode.controllerLoadUsPerPartition, () => {
                cpuPending--;
                finish();
              });
            };
            // A read is stale if it misses a write committed before it was issued (before its sync(),
            // with linearizable reads): ZooKeeper's reads are only sequentially consistent, a follower
            // answers from whatever it has applied. Writes that commit while the read is under way
            // are concurrent with it and may be missed by any read. A chunk's reads are issued together.
            const all = new Int32Array(P);
            for (let p = 0; p < P; p++) all[p] = p;
            const issuedAt = new Int32Array(ZK_READ_CHUNK);
            let issuedFrom = 0;
            for (let i = 0; i < ZK_READ_CHUNK && i < P; i++) issuedAt[i] = truth.partitionEpoch[i]!;
            this.readStates(all, (chunk, r) => {
              const s = r.partitionStates;
              if (s !== undefined) {
                for (let i = 0; i < chunk.length; i++) if (s.version[i]! >= 0 && s.version[i]! < issuedAt[i]!) h.stats.staleReads++;
                this.applyRead(chunk, r);
              }
              parsed += chunk.length;
              flushCpu(chunk.length);
              // The next chunk is issued right after this callback: note what truth holds for it now.
              issuedFrom += chunk.length;
              for (let i = 0; i < ZK_READ_CHUNK && issuedFrom + i < P; i++) issuedAt[i] = truth.partitionEpoch[issuedFrom + i]!;
            }, () => {
              readsDone = true;
              finish();
            });
          });
        });
      });
    });
  }

  private afterLoad(gen: number, done: () => void): void {
    const h = this.h;
    for (const b of this.liveBrokers.keys()) this.channel?.addBroker(b);
    for (const b of [...this.channel!['threads'].keys()]) if (!this.liveBrokers.has(b)) this.channel!.removeBroker(b);
    // sendUpdateMetadataRequest(liveBrokers, no partitions), then every replica's LeaderAndIsr and
    // every partition's UpdateMetadata (ReplicaStateMachine.startup → OnlineReplica).
    const all = this.allPartitions();
    this.sendUpdateMetadata([...this.liveBrokers.keys()], []);
    this.sendStates(all, () => {
      h.node.note('controller.load.done', all.length);
      h.stats.lastContextLoadMs = (h.node.sim.nowUs - this.electedAtUs) / 1000;
      // PartitionStateMachine.startup + OfflineReplica: elect leaders where the leader is dead,
      // remove dead replicas from ISRs.
      const dead = new Set<number>();
      for (let b = 0; b < h.layout.brokers; b++) if (!this.liveBrokers.has(b)) dead.add(b);
      this.handleDeadBrokers(gen, dead, false, () => {
        // Notifications posted before this controller registered its watch.
        if (h.isrChangeNotification && this.active) this.onIsrChangeNotification();
        done();
      });
    });
  }

  private allPartitions(): Int32Array {
    const out = new Int32Array(this.h.layout.partitions);
    for (let p = 0; p < out.length; p++) out[p] = p;
    return out;
  }

  /** Queues LeaderAndIsr (to each live replica) and UpdateMetadata (to every live broker) for these partitions. */
  sendStates(parts: ArrayLike<number>, then: () => void): void {
    const h = this.h;
    const ctx = this.ctx!;
    const rf = h.layout.replicationFactor;
    const costUs = parts.length * (rf + 1) * h.costs.zkmode.controllerRequestBuildUsPerPartition;
    this.cpu('sendRequestsToBrokers', costUs, () => {
      if (!this.active) return then();
      const live = [...this.liveBrokers.keys()];
      const B = h.layout.brokers;
      const replicas = ctx.replicas;
      // The UpdateMetadata chunks (every partition's state, one list shared by every live
      // broker's request), and LeaderAndIsr per broker: the partitions it hosts, as positions in
      // that list (SharedStates), in chunks sized to what they carry.
      const states = this.stateChunks(ctx, parts);
      const lists: SharedStates[][] = [];
      const isLive = new Uint8Array(B);
      for (let b = 0; b < B; b++) lists.push([]);
      for (const b of live) isLive[b] = 1;
      const left = new Int32Array(B);
      const n = parts.length;
      for (let j = 0; j < n; j++) {
        const p = parts[j]!;
        for (let i = 0; i < rf; i++) left[replicas[p * rf + i]!]!++;
      }
      const cur: (Int32Array | null)[] = new Array<Int32Array | null>(B).fill(null);
      const fill = new Int32Array(B);
      for (let j = 0; j < n; j++) {
        const p = parts[j]!;
        for (let i = 0; i < rf; i++) {
          const b = replicas[p * rf + i]!;
          if (isLive[b] === 0) continue;
          let at = cur[b] ?? null;
          if (at === null || fill[b] === at.length) {
            at = new Int32Array(Math.min(MAX_STATES_PER_CHUNK, left[b]!));
            lists[b]!.push(new SharedStates(states, at));
            cur[b] = at;
            fill[b] = 0;
          }
          at[fill[b]!++] = j;
          left[b]!--;
        }
      }
      for (const b of live) {
        const chunks = lists[b]!;
        if (chunks.length > 0) this.channel!.send(b, { type: 'LeaderAndIsr', controllerEpoch: this.epoch, brokerEpoch: this.liveBrokers.get(b)!, chunks, liveBrokers: live });
      }
      this.sendUpdateMetadataChunks(live, states);
      then();
    });
  }

  sendUpdateMetadata(live: readonly number[], parts: ArrayLike<number>): void {
    this.sendUpdateMetadataChunks(live, this.stateChunks(this.ctx!, parts));
  }

  /** The context's states of `parts`, in that order, in chunks of at most MAX_STATES_PER_CHUNK (read only once sent). */
  private stateChunks(ctx: PartitionTable, parts: ArrayLike<number>): PartitionStateBatch[] {
    const chunks: PartitionStateBatch[] = [];
    for (let i = 0; i < parts.length; i += MAX_STATES_PER_CHUNK) chunks.push(PartitionStateBatch.of(ctx, parts, i, Math.min(MAX_STATES_PER_CHUNK, parts.length - i)));
    return chunks;
  }

  /** UpdateMetadata to each of `live`: one set of chunks shared by every broker's request (the states are the same). */
  private sendUpdateMetadataChunks(live: readonly number[], chunks: PartitionStateBatch[]): void {
    if (chunks.length === 0) chunks.push(PartitionStateBatch.ofSize(0));
    for (const b of live) {
      const req: QueuedRequest = { type: 'UpdateMetadata', controllerEpoch: this.epoch, brokerEpoch: this.liveBrokers.get(b) ?? -1, chunks, liveBrokers: live };
      this.channel!.send(b, req);
    }
  }

  // ---- broker changes ----

  /** BrokerChange watch fired: re-read /brokers/ids and act on what changed. */
  onBrokerChange(): void {
    this.put('BrokerChange', (done) => {
      if (!this.active) return done();
      const gen = this.gen;
      this.read({ type: 'getChildren', path: BROKER_IDS_PATH, watch: true }, (ids) => {
        const now = new Set((ids.children ?? []).map(Number));
        const dead = new Set<number>();
        for (const b of this.liveBrokers.keys()) if (!now.has(b)) dead.add(b);
        const added = [...now].filter((b) => !this.liveBrokers.has(b));
        const bounced: number[] = [];
        this.pipeline(now.size, (i, cb) => this.read({ type: 'getData', path: `${BROKER_IDS_PATH}/${[...now][i]}`, watch: false }, cb), (i, r) => {
          const b = [...now][i]!;
          if (r.code !== 'OK') return;
          const prev = this.liveBrokers.get(b);
          // KIP-380: a changed czxid means the broker bounced between two reads.
          if (prev !== undefined && prev !== r.stat!.czxid && !this.h.noBrokerEpoch) bounced.push(b);
          if (prev === undefined || !this.h.noBrokerEpoch) this.liveBrokers.set(b, r.stat!.czxid);
        }, () => {
          // onBrokerFailure (for dead and bounced brokers) drops them from shuttingDownBrokerIds, so
          // a broker that comes back after a controlled shutdown may rejoin ISRs (KIP-841's check).
          for (const b of dead) {
            this.liveBrokers.delete(b);
            this.shuttingDown.delete(b);
            this.channel?.removeBroker(b);
          }
          for (const b of bounced) {
            this.shuttingDown.delete(b);
            this.channel?.removeBroker(b);
          }
          for (const b of [...added, ...bounced]) this.channel?.addBroker(b);
          this.h.node.note('controller.broker.change', dead.size, `dead ${[...dead].join(',')} new ${[...added, ...bounced].join(',')}`);
          this.handleDeadBrokers(gen, dead, true, () => {
            // onBrokerStartup: the new broker gets every partition's state, then
            // triggerOnlinePartitionStateChange gives offline partitions whose ISR is back a leader.
            const fresh = [...added, ...bounced];
            if (fresh.length === 0 || !this.active) return done();
            this.sendStatesTo(fresh);
            this.electOfflinePartitions(gen, done);
          });
        });
      });
    });
  }

  private sendStatesTo(brokers: readonly number[]): void {
    const all = this.allPartitions();
    const live = [...this.liveBrokers.keys()];
    const ctx = this.ctx!;
    this.cpu('onBrokerStartup', all.length * this.h.costs.zkmode.controllerRequestBuildUsPerPartition, () => {
      if (!this.active) return;
      // Every partition's state in order (the UpdateMetadata chunks, shared), so a broker's
      // LeaderAndIsr chunks are its hosted list's pieces as positions in them (SharedStates).
      const chunks = this.stateChunks(ctx, all);
      const hostedBy = replicaIndex(this.h.layout).hosted;
      for (const b of brokers) {
        const lair: SharedStates[] = [];
        const hosted = hostedBy[b]!;
        for (let k = 0; k < hosted.length; k += MAX_STATES_PER_CHUNK) lair.push(new SharedStates(chunks, hosted.subarray(k, Math.min(hosted.length, k + MAX_STATES_PER_CHUNK))));
        const epoch = this.liveBrokers.get(b)!;
        this.channel?.send(b, { type: 'UpdateMetadata', controllerEpoch: this.epoch, brokerEpoch: epoch, chunks, liveBrokers: live });
        if (lair.length > 0) this.channel?.send(b, { type: 'LeaderAndIsr', controllerEpoch: this.epoch, brokerEpoch: epoch, chunks: lair, liveBrokers: live });
      }
    });
  }

  /**
   * onBrokerFailure / offline partitions: for every partition with a replica on a dead broker, read
   * its state, write the new leader/ISR conditionally on its zkVersion (retrying conflicts with a
   * fresh read), then send LeaderAndIsr + UpdateMetadata for what was written.
   */
  private handleDeadBrokers(gen: number, dead: ReadonlySet<number>, readFirst: boolean, done: () => void): void {
    const h = this.h;
    if (dead.size === 0) return done();
    // onBrokerFailure → ControllerContext.replicasOnBrokers: a walk of every partition per dead broker.
    this.cpu('onBrokerFailure', h.layout.partitions * dead.size * h.costs.zkmode.controllerReplicaScanUsPerPartition, () => this.handleDeadBrokersScanned(gen, dead, readFirst, done));
  }

  private handleDeadBrokersScanned(gen: number, dead: ReadonlySet<number>, readFirst: boolean, done: () => void): void {
    if (gen !== this.gen || !this.active || this.ctx === null) return done();
    const ctx = this.ctx;
    const rf = this.h.layout.replicationFactor;
    const affected: number[] = [];
    for (let p = 0; p < ctx.size; p++) {
      for (let i = 0; i < rf; i++) {
        if (dead.has(ctx.replicas[p * rf + i]!) && (ctx.isr[p]! & (1 << i)) !== 0) {
          affected.push(p);
          break;
        }
      }
    }
    this.h.node.note('controller.broker.failure', affected.length);
    this.writeTransitions(gen, affected, dead, readFirst, done);
  }

  /**
   * triggerOnlinePartitionStateChange after a broker starts: partitions without a leader whose ISR
   * has a live replica again elect it (OfflinePartitionLeaderElectionStrategy, clean).
   */
  private electOfflinePartitions(gen: number, done: () => void): void {
    const ctx = this.ctx!;
    const rf = this.h.layout.replicationFactor;
    const offline: number[] = [];
    for (let p = 0; p < ctx.size; p++) {
      if (ctx.leader[p] !== NO_LEADER) continue;
      for (let i = 0; i < rf; i++) {
        if ((ctx.isr[p]! & (1 << i)) !== 0 && this.liveBrokers.has(ctx.replicas[p * rf + i]!)) {
          offline.push(p);
          break;
        }
      }
    }
    this.h.node.note('controller.offline.elect', offline.length);
    if (offline.length === 0) return done();
    this.writeTransitions(gen, offline, new Set(), true, done);
  }

  /** Reads (optionally), then conditionally writes offlineTransition for each partition; sends what was written. */
  private writeTransitions(gen: number, affected: number[], dead: ReadonlySet<number>, readFirst: boolean, done: () => void): void {
    const h = this.h;
    const written: number[] = [];
    let fencedHere = 0;
    const attempt = (parts: number[], round: number): void => {
      const writeAll = (): void => {
        this.writeStates(parts, (p) => this.offlineTransition(p, dead), (ok, conflicts, fenced) => {
          for (const p of ok) written.push(p); // not push(...ok): 10^5+ arguments overflow the stack
          if (fenced) fencedHere++;
          if (gen !== this.gen) return done();
          if (fencedHere > 0 && this.active) {
            // ControllerMovedException: another controller owns the epoch.
            this.resign('ControllerMovedException');
            return done();
          }
          if (conflicts.length > 0 && round < 5) attempt(conflicts, round + 1);
          else if (this.active) this.sendStates(written, done);
          else done();
        });
      };
      if (!readFirst && round === 0) return writeAll();
      // Re-read the states (getTopicPartitionStatesRaw) before the conditional writes.
      this.readStates(Int32Array.from(parts), (chunk, r) => this.applyRead(chunk, r), () => this.cpu('electLeaders', parts.length * h.costs.zkmode.controllerRequestBuildUsPerPartition, writeAll));
    };
    attempt(affected, 0);
  }

  /** OfflinePartitionLeaderElection + OfflineReplica: first live ISR replica leads; dead replicas leave the ISR. */
  private offlineTransition(p: number, dead: ReadonlySet<number>): { leader: number; leaderEpoch: number; controllerEpoch: number; isr: number } {
    const ctx = this.ctx!;
    const rf = this.h.layout.replicationFactor;
    const live = (r: number): boolean => !dead.has(r) && this.liveBrokers.has(r);
    let isr = ctx.isr[p]!;
    // ReplicaStateMachine.doRemoveReplicasFromIsr: the last ISR member stays in the ISR.
    for (let i = 0; i < rf; i++) {
      const bit = 1 << i;
      if ((isr & bit) !== 0 && dead.has(ctx.replicas[p * rf + i]!) && (isr & ~bit) !== 0) isr &= ~bit;
    }
    let leader = ctx.leader[p]!;
    let leaderEpoch = ctx.leaderEpoch[p]!;
    if (leader === NO_LEADER || !live(leader)) {
      leader = NO_LEADER;
      // What-if 'zk.elect-outside-isr': any live replica, ISR or not, without unclean.leader.election.enable.
      const outside = this.h.bugs.has('zk.elect-outside-isr');
      for (let i = 0; i < rf; i++) {
        const r = ctx.replicas[p * rf + i]!;
        if (((isr & (1 << i)) !== 0 && live(r)) || (outside && live(r))) {
          leader = r;
          break;
        }
      }
      // What-if 'zk.no-leader-epoch-bump': the new leader keeps the old leader epoch.
      if (!this.h.bugs.has('zk.no-leader-epoch-bump')) leaderEpoch++;
    } else {
      // Shrinking the ISR bumps the leader epoch in ZK mode (LeaderAndIsr.newEpochAndZkVersion).
      leaderEpoch++;
    }
    return { leader, leaderEpoch, controllerEpoch: this.epoch, isr };
  }
}
