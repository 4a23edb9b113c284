import { FaultPlanError, msToUs, type SimNode } from '../../core/index.ts';
import { costModel, installProfiles, replicationParam } from '../cluster/cost.ts';
import type { KafkaClusterHandle } from '../cluster/handle.ts';
import { makeLayout } from '../cluster/layout.ts';
import { ObservationChannel } from '../cluster/observe.ts';
import { fullIsrMask, NO_LEADER, PartitionStateBatch, PartitionTable } from '../cluster/partitions.ts';
import { defineKafkaRoles } from '../cluster/roles.ts';
import { ClusterTracker, EQUAL } from '../cluster/tracker.ts';
import { trackerOptions } from '../cluster/params.ts';
import { bool, listParam, num } from '../params.ts';
import type { ScenarioContext } from '../scenario.ts';
import { ZkEnsemble } from '../zookeeper/ensemble.ts';
import type { QuorumPeer } from '../zookeeper/peer.ts';
import { CHUNK_OK } from '../zookeeper/types.ts';
import { UsageError } from '../errors.ts';
import { ZkBroker, type BrokerAudit } from './broker.ts';
import { ISR_CHANGE_PATH, type ReplicaStats } from './replica.ts';
import { BROKER_IDS_PATH, CONTROLLER_EPOCH_PATH, CONTROLLER_PATH, TOPICS_PATH, type ControllerStats } from './controller.ts';

export { ZK_BUGS, ZK_PARAMS } from './params.ts';

/**
 * Kafka in ZooKeeper mode: a ZooKeeper ensemble (zk-0…), brokers (broker-0…) each with a
 * ZooKeeper session and a KafkaController that is active on the broker holding /controller.
 * Truth is the committed ZooKeeper tree: the partition-state writes of each txn the ZooKeeper leader
 * commits are kept in `committed` (what the model's invariants and the controller's stale-read
 * count compare against) and reported as one truth observation. Warm start (default): the tree is populated, sessions are
 * open, broker-0 is controller (epoch 1) with its context loaded, caches are full.
 */
/** The ZK-mode handle: the shared one plus what only a running cluster can be asked to do. */
export interface ZkClusterHandle extends KafkaClusterHandle {
  /** Starts a controlled shutdown of broker b; onDone(ms, clean) when the broker may exit. */
  controlledShutdown(b: number, onDone: (ms: number, clean: boolean) => void): void;
  /** The broker's clean exit closes its ZooKeeper session (ZooKeeper.close → closeSession). */
  closeSession(b: number): void;
}

export function buildZkCluster(ctx: ScenarioContext): ZkClusterHandle {
  const { sim, params } = ctx;
  installProfiles(sim, params);
  const layout = makeLayout(params);
  const costs = costModel(params);
  const bugs = listParam(params, 'bugs');
  const cold = bool(params, 'zk.cold.start');
  const sessionTimeoutMs = num(params, 'zookeeper.session.timeout.ms');
  const P = layout.partitions;
  const rf = layout.replicationFactor;
  let tracker: ClusterTracker | null = null;
  const obs = new ObservationChannel(sim);
  /** Partition states as the ZooKeeper leader committed them (the committed tree's partition znodes). */
  const committed = new PartitionTable(layout);
  let commitBatch = PartitionStateBatch.ofSize(16);
  const inv = { controllerEpoch: 1, controllerEpochViolation: null as string | null, epochFenceViolation: null as string | null, leaderEpochViolation: null as string | null, isrViolation: null as string | null };

  const servers = num(params, 'zk.servers');
  if (servers !== 3 && servers !== 5) throw new UsageError(`zk.servers must be 3 or 5, got ${servers}`);
  /** A committed partition-state write (one znode): the ZooKeeper-side invariants, then truth. */
  const commitState = (writerEpoch: number, p: number, leader: number, leaderEpoch: number, version: number, isr: number): void => {
    const t = committed;
    if (leaderEpoch < t.leaderEpoch[p]!) inv.leaderEpochViolation ??= `partition ${p}: leader epoch went from ${t.leaderEpoch[p]} to ${leaderEpoch}`;
    // A leader epoch names one leadership: a new leader needs a new epoch (KIP-101).
    if (leader !== t.leader[p]! && leader !== NO_LEADER && leaderEpoch <= t.leaderEpoch[p]!) inv.leaderEpochViolation ??= `partition ${p}: leader ${t.leader[p]} → ${leader} without a new leader epoch (${leaderEpoch})`;
    if (leader !== NO_LEADER && t.slotOf(p, leader) >= 0 && (isr & (1 << t.slotOf(p, leader))) === 0) inv.isrViolation ??= `partition ${p}: leader ${leader} is not in its ISR`;
    // At most one controller's writes succeed per epoch: a write by an older epoch's controller after a newer was elected.
    if (writerEpoch >= 0 && writerEpoch < inv.controllerEpoch) {
      inv.epochFenceViolation ??= `a controller of epoch ${writerEpoch} wrote partition ${p} after epoch ${inv.controllerEpoch} was elected`;
    }
    committed.set(p, leader, leaderEpoch, version, isr);
    commitBatch.push(p, leader, leaderEpoch, version, isr);
  };
  const ensemble = new ZkEnsemble(sim, {
    servers,
    tickMs: num(params, 'zk.tickTime'),
    initLimit: num(params, 'zk.initLimit'),
    syncLimit: num(params, 'zk.syncLimit'),
    partitions: P,
    warm: !cold,
    bugs,
    costs: {
      readUs: costs.zk.serverReadUs,
      writeUs: costs.zk.serverWriteUs,
      txnLogFsyncUs: costs.zk.txnLogFsyncUs,
      statBytes: costs.zk.statBytes,
      znodePathBytes: costs.zk.znodePathBytes,
      partitionStateZnodeBytes: costs.zk.partitionStateZnodeBytes,
      packetHeaderBytes: costs.zk.packetHeaderBytes,
      quorumPacketHeaderBytes: costs.zk.quorumPacketHeaderBytes,
      txnHeaderBytes: costs.zk.txnHeaderBytes,
    },
    onCommit: (_sid, txn, tree, leading) => {
      if (!leading) return;
      // One state per setPartitionState op, a chunk's count per partitionStates op.
      let states = 0;
      for (const op of txn.ops) states += op.type === 'partitionStates' ? op.chunk.count : 1;
      if (commitBatch.capacity < states) commitBatch = PartitionStateBatch.ofSize(states);
      commitBatch.clear();
      for (const op of txn.ops) {
        if (op.type === 'setData' && op.path === CONTROLLER_EPOCH_PATH) {
          const e = op.data as number;
          if (e <= inv.controllerEpoch) inv.controllerEpochViolation ??= `controller epoch went from ${inv.controllerEpoch} to ${e}`;
          inv.controllerEpoch = e;
        }
        if (op.type === 'setPartitionState') commitState(txn.writerEpoch, op.partition, op.state.leader, op.state.leaderEpoch, op.version, op.state.isr);
        else if (op.type === 'partitionStates') {
          const c = op.chunk;
          for (let i = 0; i < c.count; i++) if (op.codes[i] === CHUNK_OK) commitState(txn.writerEpoch, c.partition[i]!, c.leader[i]!, c.leaderEpoch[i]!, op.newVersion[i]!, c.isr[i]!);
        }
      }
      obs.truth(commitBatch);
      void tree;
    },
  });

  const stats: ControllerStats = { zkReads: 0, zkWrites: 0, zkWriteConflicts: 0, staleReads: 0, lastLoadPartitions: 0, fencedWrites: 0, isrChangesCommitted: 0 };
  const replicaStats: ReplicaStats = { isrChangesProposed: 0, alterPartitionRetries: 0, notController: 0, isrNotifications: 0 };
  const isrChangeNotification = bool(params, 'isr.change.notification.enable');
  const shutdownMs: Record<number, number> = {};
  const audit: BrokerAudit = { staleControllerEpochAccepted: null, staleBrokerEpochAccepted: null, acceptedStaleBrokerEpoch: 0, rejectedStaleController: 0, rejectedStaleBroker: 0, acceptedFromOldController: 0, statesFromOldController: 0 };
  const brokers: SimNode[] = [];
  const warmEpochs: number[] = [];
  const warmSessions: number[] = [];
  const env = {
    brokers,
    zkServers: ensemble.nodes,
    layout,
    costs,
    obs,
    committed,
    sessionTimeoutMs,
    maxInFlight: num(params, 'zookeeper.max.in.flight.requests'),
    socketTimeoutMs: num(params, 'controller.socket.timeout.ms'),
    bugs,
    linearizableReads: bool(params, 'zk.linearizable.reads') || bugs.has('zk.linearizable.reads'),
    stats,
    audit,
    replicaFetchWaitMaxMs: replicationParam(params, 'replica.fetch.wait.max.ms'),
    alterPartitionRetryMs: num(params, 'zkmode.alter.partition.retry.ms'),
    registrationRetryMs: num(params, 'zk.broker.registration.retry.ms'),
    replicaLagTimeMaxMs: num(params, 'replica.lag.time.max.ms'),
    isrChangeNotification,
    isrNotification: { lingerMs: num(params, 'isr.change.notification.linger.ms'), maxDelayMs: num(params, 'isr.change.notification.max.delay.ms'), checkMs: num(params, 'isr.change.notification.check.ms') },
    replicaStats,
    controlledShutdown: { maxRetries: num(params, 'controlled.shutdown.max.retries'), backoffMs: num(params, 'controlled.shutdown.retry.backoff.ms') },
    committedControllerEpoch: () => inv.controllerEpoch,
  };
  for (let b = 0; b < layout.brokers; b++) {
    brokers.push(
      sim.addNode(`broker-${b}`, (node) => {
        const broker = new ZkBroker(node, b, env);
        if (!cold && node.incarnation === 0) {
          broker.warm(warmEpochs[b]!);
          broker.zk.adopt(warmSessions[b]!, b % ensemble.nodes.length, ensemble.tree.lastProcessedZxid);
          broker.zk.adoptWatch(CONTROLLER_PATH, 'data');
          if (b === 0) {
            broker.zk.adoptWatch(BROKER_IDS_PATH, 'child');
            broker.zk.adoptWatch(TOPICS_PATH, 'child');
            if (isrChangeNotification) broker.zk.adoptWatch(ISR_CHANGE_PATH, 'child');
            const live = new Map<number, number>();
            for (let i = 0; i < layout.brokers; i++) live.set(i, warmEpochs[i]!);
            broker.controller.warmActivate(1, 0, live);
          }
        } else {
          node.after(0, () => broker.coldStart());
        }
        return broker;
      }),
    );
  }
  obs.setBrokerNodes(brokers.map((n) => n.id));
  tracker = new ClusterTracker(sim, layout, brokers, trackerOptions(params));
  obs.subscribe(tracker.observer);
  obs.header({ mode: ctx.mode, seed: ctx.seed, params, nodes: [...sim.trace.nodeNames], brokerNodes: brokers.map((n) => n.id) });

  // ---- the ZooKeeper tree a long-running cluster has (kafka.zk.ZkData) ----
  const tree = ensemble.tree;
  const z = (): number => ensemble.nextWarmZxid();
  tree.create('/brokers', null, 0, 0, z());
  tree.create(BROKER_IDS_PATH, null, 0, 0, z());
  tree.create(TOPICS_PATH, null, 0, 0, z());
  tree.create(ISR_CHANGE_PATH, null, 0, 0, z());
  for (let t = 0; t < layout.topics; t++) {
    const count = Math.min(layout.partitionsPerTopic, P - t * layout.partitionsPerTopic);
    // {"version":2,"partitions":{"0":[1,2,3],…},"topic_id":…}: ≈ 20 bytes per partition at rf 3.
    tree.create(`${TOPICS_PATH}/topic-${t}`, { firstPartition: t * layout.partitionsPerTopic, count }, 60 + count * (8 + 4 * rf), 0, z());
  }
  const controllerEpochZxid = z();
  tree.create(CONTROLLER_EPOCH_PATH, 1, 4, 0, controllerEpochZxid);
  if (!cold) {
    for (let b = 0; b < layout.brokers; b++) {
      const session = ensemble.warmSession(brokers[b]!, b % ensemble.nodes.length, sessionTimeoutMs);
      warmSessions.push(session);
      ensemble.warmWatch(session, CONTROLLER_PATH, 'data');
      if (b === 0) {
        ensemble.warmWatch(session, BROKER_IDS_PATH, 'child');
        ensemble.warmWatch(session, TOPICS_PATH, 'child');
        if (isrChangeNotification) ensemble.warmWatch(session, ISR_CHANGE_PATH, 'child');
      }
      const czxid = z();
      tree.create(`${BROKER_IDS_PATH}/${b}`, b, costs.zkmode.brokerRegistrationBytes, session, czxid);
      warmEpochs.push(czxid);
    }
    tree.create(CONTROLLER_PATH, 0, 40, warmSessions[0]!, z());
    const full = fullIsrMask(rf);
    // The snapshot every server starts from: its partition states are filled into each server's
    // copy (the snapshot itself holds no arrays).
    tree.partitions.defer((ps) => {
      for (let p = 0; p < P; p++) ps.put(p, layout.replicas[p * rf]!, 0, 1, full, 0);
    });
  } else {
    const ps = tree.partitions;
    for (let p = 0; p < P; p++) ps.put(p, layout.replicas[p * rf]!, ps.leaderEpoch[p]!, 1, fullIsrMask(rf), 0);
    // Cold start is a cold start of Kafka, not of ZooKeeper's data: the persistent znodes (topics,
    // /controller_epoch) are on every server's disk, from an ensemble that ran before (epoch 1), so
    // registration and election find their parents. No session, ephemeral or leader survives.
    for (const n of ensemble.nodes) {
      n.store.put('snapshot', { tree, count: 0 });
      n.store.put('zab', { currentEpoch: 1, acceptedEpoch: 1 });
      n.store.completeSync(n.store.syncPoint());
    }
  }

  // ---- roles for fault plans ----
  sim.faults.defineRole('activeController', () => {
    const t = ensemble.leaderTree();
    const c = t?.get(CONTROLLER_PATH);
    if (c === undefined) return null;
    return brokers[c.data as number] ?? null;
  });
  sim.faults.defineRole('zkLeader', () => ensemble.leader());
  defineKafkaRoles(sim, {
    brokers,
    controllers: brokers,
    quorum: ensemble.nodes,
    zookeeper: ensemble.nodes,
    // The op's broker exits after its controlled shutdown: a clean exit closes its session first.
    controlledShutdown: (b, onDone) => handle.controlledShutdown(b, (ms, clean) => {
      handle.closeSession(b);
      onDone(ms, clean);
    }),
  });
  // `{type: 'op', op: 'delete-controller', node}`: an operator deletes /controller through the
  // node's ZooKeeper session (zookeeper-shell delete /controller, the documented way to move the
  // controller): every broker's watch fires, the old controller resigns and the brokers race to
  // elect, with no broker lost.
  sim.faults.defineOp('delete-controller', (node) => {
    const b = brokers.indexOf(node);
    if (b < 0 || !node.up) throw new FaultPlanError(`delete-controller: ${node.name} is not a running broker`);
    // zookeeper-shell does not re-send a request its lost connection left unanswered: a retried
    // delete would remove the /controller of the controller elected meanwhile.
    (node.behavior as ZkBroker).zk.writeOnce([{ type: 'delete', path: CONTROLLER_PATH, version: -1 }], () => undefined);
  });
  // The ZooKeeper server the active controller's session is connected to.
  sim.faults.defineRole('controllerZkServer', () => {
    const c = brokers.find((n) => n.up && (n.behavior as ZkBroker).controller.active);
    return c === undefined ? null : (ensemble.nodes[(c.behavior as ZkBroker).zk.serverIndex] ?? null);
  });

  // ---- safety properties ----
  sim.props.safety('zk.controller-epoch-monotonic', () => inv.controllerEpochViolation, { on: ['exec', 'deliver'] });
  sim.props.safety('zk.one-controller-writes-per-epoch', () => inv.epochFenceViolation, { on: ['exec', 'deliver'] });
  sim.props.safety('zk.leader-epoch-monotonic', () => inv.leaderEpochViolation, { on: ['exec', 'deliver'] });
  sim.props.safety('zk.leader-in-isr', () => inv.isrViolation, { on: ['exec', 'deliver'] });
  sim.props.safety('broker.no-stale-controller-epoch', () => audit.staleControllerEpochAccepted, { on: ['broker.leader.and.isr', 'broker.update.metadata'] });
  sim.props.safety('broker.no-stale-broker-epoch', () => audit.staleBrokerEpochAccepted, { on: ['broker.leader.and.isr', 'broker.update.metadata'] });
  // Liveness: after the faults heal the cluster becomes whole again (design §5 "healthy").
  // What Kafka leaves divergent: an ISR write whose response was lost with its connection is
  // re-sent after the reconnect (KafkaZkClient.retryRequestsUntilConnected); when the first attempt
  // had committed, the retry fails BADVERSION and KafkaController.processAlterPartition answers
  // INVALID_UPDATE_VERSION and keeps its context, so controller and brokers hold the older ISR while
  // ZooKeeper holds the new one until an election or a controller failover reads it again. Counted
  // as divergence; not demanded to converge.
  const divergenceKafkaKeeps = (t: ClusterTracker): number => {
    const c = brokers.map((n) => (n.up ? (n.behavior as ZkBroker).controller : null)).find((k) => k?.active === true);
    if (c === undefined || c === null || c.ctx === null) return 0;
    const ctx = c.ctx;
    let n = 0;
    for (const p of c.contextMaybeBehindZk) {
      if (ctx.partitionEpoch[p]! >= committed.partitionEpoch[p]!) continue;
      for (let b = 0; b < brokers.length; b++) {
        if (t.isLive(b) && t.statusOf(b, p) !== EQUAL && t.cachedLeader(b, p) === ctx.leader[p] && t.cachedLeaderEpoch(b, p) === ctx.leaderEpoch[p] && t.cachedIsr(b, p) === ctx.isr[p]) n++;
      }
    }
    return n;
  };
  sim.props.liveness('zk.one-controller-and-brokers-converged', msToUs(num(params, 'zk.liveness.ms')), () => {
    const t = tracker!;
    if (t.isHealthy) return null;
    if (t.activeControllers === 1 && t.unavailable === 0 && t.totalDivergence === divergenceKafkaKeeps(t)) return null;
    return `${t.activeControllers} active controller(s), ${t.unavailable} unavailable partition(s), ${t.totalDivergence} divergent broker-partition(s)`;
  }, { pollUs: 100_000 });

  sim.onLifecycle((node, event) => {
    const b = brokers.indexOf(node);
    if (b < 0 || event !== 'crash') return;
    // A crashed process believes nothing; its registration stays until its session expires.
    obs.controller(node.id, 'resigned');
  });

  const handle: ZkClusterHandle = {
    tracker,
    observations: obs,
    controlledShutdown: (b, onDone) => {
      const node = brokers[b];
      if (node === undefined || !node.up) throw new Error(`controlledShutdown: broker ${b} is not running`);
      (node.behavior as ZkBroker).controlledShutdown((ms, clean) => {
        shutdownMs[b] = ms;
        onDone(ms, clean);
      });
    },
    closeSession: (b) => {
      // KafkaServer.shutdown ends with zkClient.close(): the closeSession request leaves before the
      // process exits, so the server deletes the broker's registration (and /controller, if it
      // held it) at once, not zookeeper.session.timeout.ms later.
      const node = brokers[b];
      if (node !== undefined && node.up) (node.behavior as ZkBroker).zk.closeSession(() => undefined);
    },
    extra: () => {
      const ctrl = brokers.map((n) => (n.up ? (n.behavior as ZkBroker) : null)).find((b) => b?.controller.active === true);
      const leader = ensemble.leader();
      return {
        'zk.controller.zk.reads': stats.zkReads,
        'zk.controller.zk.writes': stats.zkWrites,
        'zk.controller.zk.write.conflicts': stats.zkWriteConflicts,
        'zk.controller.fenced.writes': stats.fencedWrites,
        'zk.controller.stale.reads': stats.staleReads,
        'zk.controller.context.load.ms': stats.lastContextLoadMs ?? null,
        'zk.controller.tree.walk.ms': stats.lastTreeWalkMs ?? null,
        'zk.controller.context.behind.zk': divergenceKafkaKeeps(tracker!),
        'zk.controller.epoch': inv.controllerEpoch,
        'zk.controller.broker': ctrl?.id ?? null,
        'zk.leader': leader?.name ?? null,
        'zk.leader.epoch': leader === null ? null : (leader.behavior as QuorumPeer).currentEpoch,
        'zk.broker.rejected.stale.controller': audit.rejectedStaleController,
        'zk.broker.rejected.stale.broker.epoch': audit.rejectedStaleBroker,
        'zk.broker.accepted.stale.broker.epoch': audit.acceptedStaleBrokerEpoch,
        'zk.broker.accepted.old.controller.requests': audit.acceptedFromOldController,
        'zk.broker.accepted.old.controller.states': audit.statesFromOldController,
        'zk.isr.changes.proposed': replicaStats.isrChangesProposed,
        'zk.isr.changes.committed.by.controller': stats.isrChangesCommitted,
        'zk.isr.alter.partition.retries': replicaStats.alterPartitionRetries,
        'zk.isr.alter.partition.not.controller': replicaStats.notController,
        'zk.isr.change.notifications': replicaStats.isrNotifications,
        shutdownMs: Object.keys(shutdownMs).length === 0 ? null : Math.max(...Object.values(shutdownMs)),
      };
    },
  };
  return handle;
}
