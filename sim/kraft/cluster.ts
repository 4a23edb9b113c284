import { assertNever, type Message, type SimNode } from '../../core/index.ts';
import { ALTER_PARTITION_REQUEST_BODY_BYTES, costModel, installProfiles, REPLICATION_PARAMS, replicationParam } from '../cluster/cost.ts';
import type { KafkaClusterHandle } from '../cluster/handle.ts';
import { makeLayout } from '../cluster/layout.ts';
import { defineKafkaRoles } from '../cluster/roles.ts';
import { ObservationChannel } from '../cluster/observe.ts';
import { ClusterTracker } from '../cluster/tracker.ts';
import { trackerOptions } from '../cluster/params.ts';
import { UsageError } from '../errors.ts';
import { bool, listParam, num, type ParamSpec, type ParamSpecs } from '../params.ts';
import type { ScenarioContext } from '../scenario.ts';
import { KafkaRaftClient } from '../raft/kafka-raft-client.ts';
import { RaftInvariants } from '../raft/raft-invariants.ts';
import { DEFAULT_RAFT_CONFIG, isRaftMessage, type RaftConfig, type RaftMessage, type RaftSnapshot, type RecordBatch } from '../raft/types.ts';
import { BrokerServer } from './broker-server.ts';
import { KraftInvariants } from './kraft-invariants.ts';
import { initialSnapshot, partitionsByBroker, type ImageSnapshot } from './metadata-image.ts';
import { type AlterPartitionRequest, type AlterPartitionResponse, type ControllerRequest, type ControllerResponse, type ReplicaFetchRequest } from './messages.ts';
import { KraftReplicaManager } from './replica-manager.ts';
import { QuorumController } from './quorum-controller.ts';
import type { MetadataPayload } from './records.ts';

const ms = (d: number, description: string, source: string, min = 1): ParamSpec => ({ default: d, unit: 'ms', description, source, min });

/** Kafka's KRaft config keys with their defaults (kafka-facts §2.2, §2.5, §2.6, §2.8), plus the model's switches. */
export const KRAFT_PARAMS: ParamSpecs = {
  'controller.quorum.election.timeout.ms': ms(1000, 'election timeout T; each wait is drawn in [T, 2T)', 'QuorumConfig.DEFAULT_QUORUM_ELECTION_TIMEOUT_MS; QuorumState.randomElectionTimeoutMs'),
  'controller.quorum.fetch.timeout.ms': ms(2000, 'a voter without a successful fetch this long runs; the leader resigns after 1.5× without a majority', 'QuorumConfig.DEFAULT_QUORUM_FETCH_TIMEOUT_MS; LeaderState.CHECK_QUORUM_TIMEOUT_FACTOR'),
  'controller.quorum.election.backoff.max.ms': ms(1000, 'cap of the binary exponential backoff after a failed election', 'QuorumConfig.DEFAULT_QUORUM_ELECTION_BACKOFF_MAX_MS'),
  'controller.quorum.request.timeout.ms': ms(2000, 'Raft RPC timeout', 'QuorumConfig.DEFAULT_QUORUM_REQUEST_TIMEOUT_MS'),
  'controller.quorum.retry.backoff.ms': ms(20, 'backoff before retrying a failed Raft RPC', 'QuorumConfig.DEFAULT_QUORUM_RETRY_BACKOFF_MS'),
  'controller.quorum.append.linger.ms': ms(25, 'how long the leader accumulates writes before appending and flushing them', 'QuorumConfig.DEFAULT_QUORUM_LINGER_MS', 0),
  'broker.heartbeat.interval.ms': ms(2000, 'broker heartbeat interval to the active controller', 'KRaftConfigs.BROKER_HEARTBEAT_INTERVAL_MS_DEFAULT'),
  'broker.session.timeout.ms': ms(9000, 'the active controller fences a broker without a heartbeat this long', 'KRaftConfigs.BROKER_SESSION_TIMEOUT_MS_DEFAULT'),
  'metadata.max.idle.interval.ms': ms(500, 'the active controller appends a NoOpRecord this often', 'KRaftConfigs.METADATA_MAX_IDLE_INTERVAL_MS_DEFAULT'),
  'metadata.log.max.record.bytes.between.snapshots': { default: 20 * 1024 * 1024, unit: 'bytes', description: 'a snapshot is taken after this many bytes of committed log', source: 'KRaftConfigs.METADATA_SNAPSHOT_MAX_NEW_RECORD_BYTES_DEFAULT (20 MiB)', min: 1 },
  'metadata.max.retention.bytes': { default: 100 * 1024 * 1024, unit: 'bytes', description: 'log bytes kept; beyond it the prefix below the latest snapshot is deleted', source: 'KRaftConfigs.METADATA_MAX_RETENTION_BYTES_DEFAULT (100 MiB)', min: 0 },
  'kraft.broker.to.controller.retry.ms': ms(100, 'a broker\'s BrokerLifecycleManager re-sends after this long when no active controller is known or one answered NOT_CONTROLLER', 'Kafka code constants, not configs: NodeToControllerRequestThread polls 100 ms for a controller; BrokerLifecycleManager resendExponentialBackoff starts at 100 ms (ExponentialBackoff(100, 2, broker.session.timeout.ms, 0.02))'),
  ...REPLICATION_PARAMS,
  'kraft.controllers': { default: 3, unit: 'count', description: 'controller quorum voters', source: 'kafka-facts §2.9: typical quorum of 3 or 5', min: 1, integer: true },
  'kraft.combined': { default: false, unit: '', description: 'combined mode: the first kraft.controllers brokers are also the voters (process.roles=broker,controller)', source: 'KAFKA docs/ops.html, process.roles' },
  'kraft.prevote': { default: false, unit: '', description: 'KIP-996 pre-vote before an election', source: 'KIP-996 (Kafka 4.0 line)' },
  'kraft.cold.start': { default: false, unit: '', description: 'start without a leader (election from scratch) instead of in steady state', source: 'simulator control' },
  'kraft.liveness.ms': { default: 60_000, unit: 'ms', description: 'bound after the last fault for one active controller and converged brokers', source: 'simulator control: fetch timeout + elections + session timeout + apply, with margin', min: 1 },
};

/** Deliberate bugs; each trips at least one invariant in test/kraft/bugs.test.ts. */
export const KRAFT_BUGS: readonly string[] = [
  'KAFKA-15489', 'hw-before-own-epoch', 'vote-without-log-check', 'broker-applies-beyond-hw',
  'quorum-state-not-fsynced', 'ack-before-flush', 'fence-without-leader-move', 'vote-twice-per-epoch', 'leader-change-before-commit',
];

export interface KraftClusterHandle extends KafkaClusterHandle {
  readonly controllers: readonly SimNode[];
  readonly brokers: readonly SimNode[];
  readonly raftInvariants: RaftInvariants<MetadataPayload>;
  raftOf(node: SimNode): KafkaRaftClient<MetadataPayload, ImageSnapshot> | undefined;
  controllerOf(node: SimNode): QuorumController | undefined;
  brokerServer(b: number): BrokerServer | undefined;
  activeController(): SimNode | null;
  /** Starts a controlled shutdown of broker b (BrokerHeartbeat with WantShutDown); the broker exits once allowed. */
  requestControlledShutdown(b: number): void;
  /** The same, with a callback when the broker may exit: ms from its first WantShutDown heartbeat. */
  controlledShutdown(b: number, onDone: (ms: number, clean: boolean) => void): void;
}

type AnyMsg = RaftMessage<MetadataPayload, ImageSnapshot> | ControllerRequest | ControllerResponse | ReplicaFetchRequest | AlterPartitionRequest | AlterPartitionResponse;

/**
 * Builds a KRaft cluster. `opts.safety` restricts the safety invariants registered (false: none;
 * a list: only those names) — for a test that isolates one property under a bug that would
 * otherwise stop the run at an earlier violation of another.
 */
export function buildKraftCluster(ctx: ScenarioContext, opts: { readonly safety?: boolean | readonly string[] } = {}): KraftClusterHandle {
  const { sim, params } = ctx;
  installProfiles(sim, params);
  const layout = makeLayout(params);
  const cost = costModel(params);
  const bugs = listParam(params, 'bugs');
  const has = (b: string): boolean => bugs.has(b);
  const C = num(params, 'kraft.controllers');
  const combined = bool(params, 'kraft.combined');
  if (combined && C > layout.brokers) throw new UsageError(`kraft.combined needs kraft.controllers (${C}) <= brokers (${layout.brokers})`);
  const cold = bool(params, 'kraft.cold.start');

  // Nodes: isolated controllers first, then brokers (ids = index in sim.nodes).
  const firstId = sim.nodes.length;
  const controllerNames = combined ? Array.from({ length: C }, (_, i) => `broker-${i}`) : Array.from({ length: C }, (_, i) => `controller-${i}`);
  const voterIds = combined ? Array.from({ length: C }, (_, i) => firstId + i) : Array.from({ length: C }, (_, i) => firstId + i);
  const brokerIdOfNode = new Map<number, number>();
  for (let b = 0; b < layout.brokers; b++) brokerIdOfNode.set(firstId + (combined ? 0 : C) + b, b);

  const raftConfig: RaftConfig = {
    ...DEFAULT_RAFT_CONFIG,
    voterIds,
    electionTimeoutMs: num(params, 'controller.quorum.election.timeout.ms'),
    fetchTimeoutMs: num(params, 'controller.quorum.fetch.timeout.ms'),
    electionBackoffMaxMs: num(params, 'controller.quorum.election.backoff.max.ms'),
    requestTimeoutMs: num(params, 'controller.quorum.request.timeout.ms'),
    retryBackoffMs: num(params, 'controller.quorum.retry.backoff.ms'),
    appendLingerMs: num(params, 'controller.quorum.append.linger.ms'),
    rpcHeaderBytes: cost.kraft.raftRpcHeaderBytes,
    preVote: bool(params, 'kraft.prevote'),
    bugs: {
      noCheckQuorum: has('KAFKA-15489'),
      hwBeforeOwnEpoch: has('hw-before-own-epoch'),
      voteWithoutLogCheck: has('vote-without-log-check'),
      quorumStateNotFsynced: has('quorum-state-not-fsynced'),
      ackBeforeFlush: has('ack-before-flush'),
      voteTwicePerEpoch: has('vote-twice-per-epoch'),
      leaderChangeBeforeCommit: has('leader-change-before-commit'),
    },
  };

  // The metadata log of a long-running cluster: a snapshot holding every topic, partition and
  // broker registration (broker b registered at offset b), then epoch 1's LeaderChangeMessage.
  const k = cost.kraft;
  const snapshotEnd = layout.brokers + layout.topics + layout.partitions;
  const snapshot: RaftSnapshot<ImageSnapshot> = {
    endOffset: snapshotEnd, epoch: 1, recordCount: snapshotEnd, image: initialSnapshot(layout),
    sizeBytes: layout.partitions * k.snapshotBytesPerPartition + layout.brokers * k.registerBrokerRecordBytes,
  };
  const leaderChange: RecordBatch<MetadataPayload> = { baseOffset: snapshotEnd, count: 1, epoch: 1, sizeBytes: k.batchOverheadBytes + k.leaderChangeRecordBytes, checksum: 1, control: true, records: null };
  const warmHw = snapshotEnd + 1;

  const nodes: SimNode[] = [];
  const nodeOf = (id: number): SimNode => sim.nodes[id]!;
  const rafts = new Map<number, KafkaRaftClient<MetadataPayload, ImageSnapshot>>();
  const controllers = new Map<number, QuorumController>();
  const brokerServers = new Map<number, BrokerServer>();
  const started = new Set<number>();
  const partsOf = partitionsByBroker(layout);
  const raftInvariants = new RaftInvariants<MetadataPayload>(sim, [], raftConfig.fetchTimeoutMs);
  let tracker: ClusterTracker | null = null;
  const obs = new ObservationChannel(sim);
  let kraftInvariants: KraftInvariants | null = null;

  // Controlled shutdown (KIP-631): once ShouldShutDown arrives the broker process exits cleanly
  // (its logs are flushed: nothing unsynced is lost). shutdownMs: first WantShutDown heartbeat →
  // ShouldShutDown received.
  let shutdownMs: number | null = null;
  const shutdownWaiters = new Map<number, (ms: number, clean: boolean) => void>();
  const onShutdownAllowed = (b: number): void => {
    const bs = brokerServers.get(b)!;
    const ms = (bs.shutdownAllowedAtUs - bs.shutdownRequestedAtUs) / 1000;
    shutdownMs = ms;
    const node = sim.nodes[firstId + (combined ? 0 : C) + b]!;
    sim.after(0, () => {
      if (node.up) sim.crash(node, false);
      const done = shutdownWaiters.get(b);
      shutdownWaiters.delete(b);
      done?.(ms, true);
    });
  };

  const behavior = (node: SimNode) => {
    const first = !started.has(node.id);
    started.add(node.id);
    const isVoter = voterIds.includes(node.id);
    const brokerId = brokerIdOfNode.get(node.id);
    const warm = first && !cold;
    const raft = new KafkaRaftClient<MetadataPayload, ImageSnapshot>(node, {
      config: raftConfig,
      nodeOf,
      observer: kraftInvariants!,
      controlBatchBytes: k.batchOverheadBytes + k.leaderChangeRecordBytes,
      ...(warm ? { warm: { epoch: 1, leaderId: voterIds[0]!, epochStartOffset: snapshotEnd, highWatermark: warmHw } } : {}),
    });
    rafts.set(node.id, raft);
    let controller: QuorumController | undefined;
    if (isVoter) {
      controller = new QuorumController(node, raft, {
        layout, partsOf, cost, obs, invariants: kraftInvariants!, nodeOf,
        config: {
          sessionTimeoutMs: num(params, 'broker.session.timeout.ms'),
          noOpIntervalMs: num(params, 'metadata.max.idle.interval.ms'),
          snapshotEveryBytes: num(params, 'metadata.log.max.record.bytes.between.snapshots'),
          retentionBytes: num(params, 'metadata.max.retention.bytes'),
          fenceMovesLeaders: !has('fence-without-leader-move'),
        },
      });
      // A new controller's image holds the initial states, as the snapshot on its disk does.
      if (first) controller.committed.loadInitialSnapshot(snapshot.image);
      controllers.set(node.id, controller);
      raft.register(controller);
    } else {
      controllers.delete(node.id);
    }
    let broker: BrokerServer | undefined;
    if (brokerId !== undefined) {
      broker = new BrokerServer(node, brokerId, raft, obs, layout, kraftInvariants!, {
        heartbeatIntervalMs: num(params, 'broker.heartbeat.interval.ms'),
        // The heartbeat channel's request timeout is half the session timeout (KAFKA-14392).
        requestTimeoutMs: Math.max(1, Math.floor(num(params, 'broker.session.timeout.ms') / 2)),
        retryBackoffMs: num(params, 'kraft.broker.to.controller.retry.ms'),
        rpcBytes: k.brokerRpcBytes,
        costs: cost.broker,
        appliesUncommitted: has('broker-applies-beyond-hw'),
      }, nodeOf, first ? { brokerEpoch: brokerId, appliedOffset: warm ? warmHw : snapshotEnd } : null);
      brokerServers.set(brokerId, broker);
      broker.onShutdownAllowed = onShutdownAllowed;
      const bs = broker;
      broker.replicas = new KraftReplicaManager(node, brokerId, () => bs.cache, partsOf,
        {
          usPerPartition: cost.broker.isrCheckUsPerPartition, bytesPerPartition: cost.broker.alterPartitionRequestBytesPerPartition, headerBytes: cost.rpcHeaderBytes + ALTER_PARTITION_REQUEST_BODY_BYTES,
          fetchRequestBytes: cost.replicaFetchRequestBytes, fetchWaitMaxMs: replicationParam(params, 'replica.fetch.wait.max.ms'),
          requestTimeoutMs: replicationParam(params, 'controller.socket.timeout.ms'),
        },
        (b) => brokerNodes[b]!, () => bs.controllerNode, () => bs.currentBrokerEpoch);
      raft.register(broker);
    }
    raft.start();
    broker?.start();
    return {
      onMessage(from: SimNode, raw: Message) {
        const msg = raw as AnyMsg;
        if (isRaftMessage(msg)) return raft.handle(from, msg as RaftMessage<MetadataPayload, ImageSnapshot>);
        switch (msg.type) {
          case 'BrokerHeartbeat':
          case 'BrokerRegistration':
            if (controller !== undefined) controller.handleRequest(from, msg);
            else node.send(from, msg.type === 'BrokerHeartbeat' ? { type: 'BrokerHeartbeatResponse', error: 'NOT_CONTROLLER', isFenced: true, shouldShutDown: false } : { type: 'BrokerRegistrationResponse', error: 'NOT_CONTROLLER', brokerEpoch: -1 }, k.brokerRpcBytes);
            return;
          case 'BrokerHeartbeatResponse':
          case 'BrokerRegistrationResponse':
            broker?.handleResponse(msg);
            return;
          case 'AlterPartition':
            if (controller !== undefined) controller.handleRequest(from, msg);
            else node.send(from, { type: 'AlterPartitionResponse', error: 'NOT_CONTROLLER', partitions: msg.states.partition.slice(0, msg.states.count), accepted: new Uint8Array(msg.states.count) }, k.brokerRpcBytes);
            return;
          case 'AlterPartitionResponse':
            broker?.replicas?.handleAlterPartitionResponse(msg);
            return;
          case 'ReplicaFetch':
            // Fetch requests are served by the broker's request handler threads.
            broker?.replicas?.handleReplicaFetch(msg.brokerId, node.executor('request-handler'));
            return;
          default:
            assertNever(msg);
        }
      },
    };
  };

  // Every node's disk holds the snapshot (and, warm, epoch 1's first batch) before it starts.
  const prepareDisk = (node: SimNode): void => {
    const store = node.store;
    store.put('__cluster_metadata-0/snapshot', snapshot);
    if (!cold) store.log<RecordBatch<MetadataPayload>>('__cluster_metadata-0').append(leaderChange);
    store.completeSync(store.syncPoint());
  };
  if (!combined) for (let i = 0; i < C; i++) nodes.push(sim.addNode(controllerNames[i]!, behavior));
  const brokerNodes: SimNode[] = [];
  for (let b = 0; b < layout.brokers; b++) brokerNodes.push(sim.addNode(`broker-${b}`, behavior));
  nodes.push(...brokerNodes);
  for (const n of nodes) prepareDisk(n);
  const controllerNodes = voterIds.map(nodeOf);
  (raftInvariants as unknown as { voters: SimNode[] }).voters.push(...controllerNodes);

  obs.setBrokerNodes(brokerNodes.map((n) => n.id));
  tracker = new ClusterTracker(sim, layout, brokerNodes, trackerOptions(params));
  obs.subscribe(tracker.observer);
  // The verdict waits until every running voter follows one leader at its epoch: a voter still
  // campaigning (cut off and back, say, its connections not yet re-established) will, without
  // pre-vote, end that leader's epoch with its next VoteRequest.
  tracker.setQuiet(() => {
    let leader = -1;
    let epoch = -1;
    for (const n of controllerNodes) {
      const r = rafts.get(n.id);
      if (n.up && !n.paused && r !== undefined && r.quorum.isLeader && r.epoch > epoch) {
        leader = n.id;
        epoch = r.epoch;
      }
    }
    if (leader < 0) return false;
    for (const n of controllerNodes) {
      const r = rafts.get(n.id);
      if (n.up && !n.paused && r !== undefined && (r.epoch !== epoch || r.leaderId !== leader)) return false;
    }
    return true;
  });
  obs.header({ mode: ctx.mode, seed: ctx.seed, params, nodes: [...sim.trace.nodeNames], brokerNodes: brokerNodes.map((n) => n.id) });
  kraftInvariants = new KraftInvariants(sim, raftInvariants, obs, tracker, layout, partsOf, cold ? snapshotEnd : warmHw);
  const only = opts.safety;
  const include = (name: string): boolean => (only === undefined || only === true ? true : only === false ? false : only.includes(name));
  raftInvariants.register(include);
  kraftInvariants.register(num(params, 'kraft.liveness.ms'), include);

  const raftLeader = (): SimNode | null => {
    let best: SimNode | null = null;
    let bestEpoch = -1;
    for (const n of controllerNodes) {
      const r = rafts.get(n.id);
      if (n.up && r !== undefined && r.quorum.isLeader && r.epoch > bestEpoch) {
        best = n;
        bestEpoch = r.epoch;
      }
    }
    return best;
  };
  const activeController = (): SimNode | null => {
    let best: SimNode | null = null;
    let bestEpoch = -1;
    for (const n of controllerNodes) {
      const c = controllers.get(n.id);
      if (n.up && c !== undefined && c.isActive && c.epoch > bestEpoch) {
        best = n;
        bestEpoch = c.epoch;
      }
    }
    return best;
  };
  sim.faults.defineRole('raftLeader', raftLeader);
  sim.faults.defineRole('activeController', activeController);
  defineKafkaRoles(sim, {
    brokers: brokerNodes,
    controllers: controllerNodes,
    quorum: controllerNodes,
    zookeeper: [],
    // The broker exits by itself once told ShouldShutDown.
    controlledShutdown: (b, onDone) => {
      shutdownWaiters.set(b, onDone);
      const bs = brokerServers.get(b);
      if (bs !== undefined && brokerNodes[b]!.up) bs.beginControlledShutdown();
    },
  });

  const t = tracker;
  return {
    tracker: t,
    observations: obs,
    controllers: controllerNodes,
    brokers: brokerNodes,
    raftInvariants,
    raftOf: (n) => rafts.get(n.id),
    controllerOf: (n) => controllers.get(n.id),
    brokerServer: (b) => brokerServers.get(b),
    activeController,
    requestControlledShutdown(b: number) {
      const bs = brokerServers.get(b);
      if (bs === undefined || b < 0 || b >= layout.brokers) throw new UsageError(`controlled shutdown: ${b} is not a broker`);
      if (!brokerNodes[b]!.up) return;
      bs.beginControlledShutdown();
    },
    controlledShutdown(b: number, onDone: (ms: number, clean: boolean) => void) {
      shutdownWaiters.set(b, onDone);
      this.requestControlledShutdown(b);
    },
    extra() {
      const leader = raftLeader();
      const r = leader !== null ? rafts.get(leader.id) : undefined;
      return {
        raftEpoch: r?.epoch ?? null,
        raftHighWatermark: r?.hw ?? null,
        raftLeadersElected: raftInvariants.leadersElected,
        activeController: activeController()?.name ?? null,
        metadataLogStartOffset: r?.log.startOffset ?? null,
        shutdownMs,
      };
    },
  };
}
