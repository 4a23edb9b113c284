import type { DiskProfile, LinkProfile, Simulation } from '../../core/index.ts';
import { num, type Params, type ParamSpec, type ParamSpecs } from '../params.ts';

/**
 * THE cost model: every figure that turns modelled work into time or bytes. Each parameter has a
 * name with its unit, a default and a one-line source — a Kafka/ZooKeeper config or code path, a
 * KIP, a figure of kafka-facts.md, or "estimate: <reasoning>" where nothing was published.
 * Overridable with `--set`, listed by `sim params`.
 *
 * Four sections: network & disk, the broker work both modes share (`broker.*`), KRaft, ZooKeeper &
 * ZK mode. Work Kafka does with the same code in both modes (ReplicaManager, Partition, the
 * metadata cache) has one `broker.*` entry; ARCHITECTURE.md "Cost audit" says which work pays which
 * entry on which executor. Mode owners may add entries to their own section (and to CostModel /
 * costModel below).
 */

const p = (d: number, unit: string, description: string, source: string, min = 0): ParamSpec => ({ default: d, unit, description, source, min });

// ---- network & disk ----------------------------------------------------------------------------
const NETWORK_DISK: ParamSpecs = {
  'net.one.way.latency.us': p(100, 'µs', 'one-way base latency of every link', 'calibrated: KAFKA-5642\'s pull-request measurement (100k single-partition topics, 5 brokers and 5 ZooKeeper servers on different racks, synchronous ZooKeeper client) loaded ≈ 200k znodes one read at a time in 58–61 s ⇒ ≈ 0.29 ms per read round trip including ZooKeeper\'s server time: 2 × (100 + 20 jitter) µs + zk.server.read.us ≈ 0.26 ms; a same-datacenter, cross-rack RTT of 0.1–0.3 ms (test/zkmode/calibration.test.ts)'),
  'net.jitter.mean.us': p(20, 'µs', 'mean of the exponential jitter added to each message', 'estimate: LAN tail latency, ≈ 20 % of net.one.way.latency.us'),
  'net.bandwidth.bytes.per.s': p(1.25e9, 'bytes/s', 'bandwidth of one link; a message occupies it for size / bandwidth', 'estimate: 10 GbE NIC = 1.25e9 bytes/s (core DEFAULT_LINK)', 1),
  'disk.write.bytes.per.s': p(500e6, 'bytes/s', 'sequential write bandwidth of a node\'s log disk', 'estimate: SSD / provisioned cloud volume sequential write, 0.25–1 GB/s (core DEFAULT_DISK)', 1),
  'disk.fsync.us': p(1000, 'µs', 'latency of one fsync', 'estimate: SSD with a write cache flush ≈ 0.5–2 ms (core DEFAULT_DISK)'),
  'net.replica.fetch.request.bytes': p(64, 'bytes', 'an idle follower\'s FetchRequest to one leader (session-based, no partition changes)', 'FetchRequest.json v12+ with KIP-227 fetch sessions: net.rpc.header.bytes 32 + ReplicaId 4 + MaxWaitMs 4 + MinBytes 4 + MaxBytes 4 + IsolationLevel 1 + SessionId 4 + SessionEpoch 4 + empty Topics / ForgottenTopicsData 2 + ReplicaState ≈ 4 + tags 1 ≈ 64'),
  'net.rpc.header.bytes': p(32, 'bytes', 'framing of one Kafka request or response: size prefix plus RequestHeader / ResponseHeader', 'RequestHeader.json v2: size 4 + ApiKey 2 + ApiVersion 2 + CorrelationId 4 + ClientId (2 + ≈ 17) + tags 1 ≈ 32; ResponseHeader v1 (size 4 + CorrelationId 4 + tags 1 = 9) is charged the same'),
};

// ---- broker work both modes share (Kafka 3.9: the same ReplicaManager / Partition code) -------
/**
 * CheckpointFile.write (Kafka 3.9) writes a temp file, fsyncs it, then renames it over the old one
 * with Utils.atomicMoveWithFallback(…, needFlushParentDir = true), which fsyncs the directory: two
 * fsyncs per leader-epoch checkpoint. KAFKA-15046 removed the fsync from the truncation paths only;
 * LeaderEpochFileCache.assign still writes and fsyncs synchronously (writeToFile).
 */
export const LEADER_EPOCH_CHECKPOINT_FSYNCS = 2;
/** AlterPartitionRequest.json v2+: BrokerId 4 + BrokerEpoch 8 + Topics length 1 + TopicId 16 + Partitions length 1 + tags 2 (the same RPC in both modes). */
export const ALTER_PARTITION_REQUEST_BODY_BYTES = 32;
/** AlterPartitionResponse.json: ThrottleTimeMs 4 + ErrorCode 2 + Topics length 1 + TopicId 16 + Partitions length 1 + tags 2. */
export const ALTER_PARTITION_RESPONSE_BODY_BYTES = 26;

const BROKER: ParamSpecs = {
  'broker.metadata.apply.us.per.partition': p(2, 'µs/partition', 'broker cost to apply one partition state (or one other metadata record) to its metadata: ZK mode ZkMetadataCache.updateMetadata per UpdateMetadata partition state; KRaft MetadataLoader → MetadataDelta.replay → image per record', 'estimate: a copy-on-write map update per partition state, JVM ≈ 1–5 µs; the same work in both modes'),
  'broker.make.leader.follower.us.per.partition': p(40, 'µs/partition', 'CPU of becoming leader or follower of one partition at a new leader epoch: Partition.makeLeader / makeFollower (updateAssignmentAndIsr, replica state reset, state-change log line), ReplicaFetcherManager.removeFetcherForPartitions / addFetcherForPartitions, and the leader-epoch checkpoint\'s file calls besides its fsyncs', 'estimate: log4j state-change line ≈ 10 µs + Partition lock and collections ≈ 5 µs + fetcher-manager maps under its lock ≈ 10 µs + temp-file create/write/rename syscalls for a new leader ≈ 15 µs; ZK mode ReplicaManager.becomeLeaderOrFollower and KRaft ReplicaManager.applyLocalLeadersDelta / applyLocalFollowersDelta call the same Partition methods'),
  'broker.partition.examine.us.per.partition': p(5, 'µs/partition', 'broker cost for a partition state that brings no new leader epoch: ZK mode becomeLeaderOrFollower skips it (epoch not newer, one warn/info line); KRaft makeLeader / makeFollower on a changed partition epoch only update ISR and assignment (updateAssignmentAndIsr, "Skipped the become-…" line)', 'estimate: an epoch comparison, a small collection update and one state-change log line ≈ 2–10 µs'),
  'broker.leader.epoch.checkpoint.bytes': p(32, 'bytes', 'leader-epoch-checkpoint file written when a partition\'s leader takes a new leader epoch (Partition.makeLeader → UnifiedLog.maybeAssignEpochStartOffset → LeaderEpochFileCache.assign); fsynced twice on the node\'s disk (LEADER_EPOCH_CHECKPOINT_FSYNCS)', 'LeaderEpochCheckpointFile: version line "0", count line, one "<epoch> <startOffset>" line per entry ≈ 2 + 2 + ≈ 12 per entry, a few entries ≈ 32'),
  'broker.alter.partition.request.bytes.per.partition': p(54, 'bytes/partition', 'one PartitionData of an AlterPartition request (leader → controller, both modes)', 'AlterPartitionRequest.json v3: PartitionIndex 4 + LeaderEpoch 4 + NewIsrWithEpochs (length 1 + 3 × (BrokerId 4 + BrokerEpoch 8 + tags 1)) + LeaderRecoveryState 1 + PartitionEpoch 4 + tags 1 = 54 at rf 3'),
  'broker.alter.partition.response.bytes.per.partition': p(33, 'bytes/partition', 'one PartitionData of an AlterPartition response (controller → leader, both modes)', 'AlterPartitionResponse.json: PartitionIndex 4 + ErrorCode 2 + LeaderId 4 + LeaderEpoch 4 + Isr (length 1 + 3 × 4) + LeaderRecoveryState 1 + PartitionEpoch 4 + tags 1 = 33 at rf 3'),
  'broker.isr.check.us.per.partition': p(2, 'µs/partition', 'leader-side work per partition examined for an ISR shrink or expansion (Partition.maybeShrinkIsr on the isr-expiration task, Partition.maybeExpandIsr on a follower\'s fetch)', 'estimate: a leadership check and a lag test per replica ≈ 1–5 µs, as broker.metadata.apply.us.per.partition; the same Partition code in both modes'),
};

// ---- KRaft -------------------------------------------------------------------------------------
// Record sizes are the serialized ApiMessageAndVersion (frame version + apiKey + version varints,
// 3 bytes) plus the message body plus the DefaultRecord framing (length, attributes, timestamp and
// offset deltas, key length, value length, header count ≈ 7 bytes), from the schemas in
// metadata/src/main/resources/common/metadata/*.json.
const KRAFT: ParamSpecs = {
  'kraft.record.partition.bytes': p(73, 'bytes', 'PartitionRecord at replication.factor 3 (+8 bytes per further replica: Replicas and Isr)', 'estimate from PartitionRecord.json v0: PartitionId 4 + TopicId 16 + Replicas 13 + Isr 13 + Removing/Adding 2 + Leader 4 + LeaderRecoveryState 1 + LeaderEpoch 4 + PartitionEpoch 4 + tags 1 + frame 3 + record 7 = 72 ≈ 73'),
  'kraft.record.partition.change.bytes': p(48, 'bytes', 'PartitionChangeRecord carrying a new Leader and Isr', 'estimate from PartitionChangeRecord.json: PartitionId 4 + TopicId 16 + tagged Leader (tag 1) 6 + tagged Isr (tag 0, 2 members) 11 + tag count 1 + frame 3 + record 7 = 48'),
  'kraft.record.register.broker.bytes': p(120, 'bytes', 'RegisterBrokerRecord with one listener', 'estimate from RegisterBrokerRecord.json: BrokerId 4 + IncarnationId 16 + BrokerEpoch 8 + one EndPoint ≈ 36 + one Feature ≈ 22 + Rack/Fenced/InControlledShutdown 3 + LogDirs ≈ 17 + frame 3 + record 7 + tags ≈ 4'),
  'kraft.record.noop.bytes': p(11, 'bytes', 'NoOpRecord (empty body)', 'NoOpRecord.json has no fields: tags 1 + frame 3 + record 7 = 11'),
  'kraft.record.fence.broker.bytes': p(23, 'bytes', 'FenceBrokerRecord', 'FenceBrokerRecord.json: Id int32 4 + Epoch int64 8 + tags 1 + frame 3 + record 7 = 23'),
  'kraft.record.batch.overhead.bytes': p(61, 'bytes', 'fixed header of one record batch', 'DefaultRecordBatch.RECORD_BATCH_OVERHEAD = 61 (clients/src/main/java/org/apache/kafka/common/record/DefaultRecordBatch.java)'),
  'kraft.controller.us.per.record': p(5, 'µs/record', 'active controller cost to generate and replay one record (QuorumController + timeline structures); standbys replay at the same cost', 'estimate: record generation, validation and replay into timeline hash maps; JVM ≈ 2–10 µs'),
  'kraft.record.leader.change.bytes': p(20, 'bytes', 'LeaderChangeMessage control record (after the batch header)', 'estimate from LeaderChangeMessage.json: Version 2 + LeaderId 4 + Voters (3 × 4 + 1) + GrantingVoters ≈ 1 + tags 1 ≈ 20 (control key and record framing share the batch overhead)'),
  'kraft.broker.rpc.body.bytes': p(64, 'bytes', 'body of a BrokerRegistration / BrokerHeartbeat request or response (net.rpc.header.bytes is added)', 'estimate: BrokerHeartbeatRequest.json BrokerId 4 + BrokerEpoch 8 + CurrentMetadataOffset 8 + WantFence 1 + WantShutDown 1 + tags ≈ 23; BrokerRegistrationRequest ≈ 120 (IncarnationId 16, listeners, features); responses ≈ 20; one figure in between'),
  'raft.rpc.header.bytes': p(64, 'bytes', 'fixed part of a KIP-595 RPC (Vote, BeginQuorumEpoch, EndQuorumEpoch, Fetch, FetchSnapshot and responses) besides records', 'estimate: net.rpc.header.bytes ≈ 32 + ClusterId (2 + 22) + one topic "__cluster_metadata" / partition 0 entry with epochs and offsets ≈ 10 ≈ 64 (VoteRequest.json, FetchRequest.json)'),
  'kraft.snapshot.bytes.per.partition': p(80, 'bytes/partition', 'metadata snapshot size per partition (KIP-630)', 'estimate: one PartitionRecord (73 bytes at rf 3) + the TopicRecord share and batch headers'),
};

// ---- ZooKeeper & ZK mode -------------------------------------------------------------------------
const ZOOKEEPER: ParamSpecs = {
  'zk.server.read.us': p(20, 'µs/request', 'ZK server CPU for one read (getData) including the reply', 'estimate: ZK serves ≈ 50k reads/s per server on one request thread path (ZooKeeper paper, Hunt et al. 2010, order of magnitude)'),
  'zk.server.write.us': p(50, 'µs/request', 'ZK leader CPU for one write (PrepRequestProcessor + proposal), excluding the txn-log fsync', 'estimate: ZK sustains ≈ 20k writes/s with a fast log disk (Hunt et al. 2010, order of magnitude)'),
  'zk.txnlog.fsync.us': p(1000, 'µs', 'fsync of the ZK transaction log (SyncRequestProcessor group-commits what is queued)', 'estimate: as disk.fsync.us; ZooKeeper recommends a dedicated log device (ZooKeeper admin guide)'),
  'zk.znode.partition.state.bytes': p(80, 'bytes', 'data of /brokers/topics/<t>/partitions/<p>/state', 'JSON {"controller_epoch":N,"leader":N,"version":1,"leader_epoch":N,"isr":[a,b,c]} (kafka.zk.TopicPartitionStateZNode) ≈ 75–85 bytes'),
  'zk.znode.path.bytes': p(45, 'bytes', 'path of a partition state znode in a request', '/brokers/topics/<topic name ≈ 15>/partitions/<p>/state'),
  'zk.packet.header.bytes': p(16, 'bytes', 'framing of one client↔server ZooKeeper packet: length prefix plus RequestHeader or ReplyHeader', 'zookeeper.jute: length 4 + RequestHeader (xid int 4, type int 4) = 12; length 4 + ReplyHeader (xid 4, zxid long 8, err 4) = 20; ≈ 16'),
  'zk.quorum.packet.header.bytes': p(20, 'bytes', 'framing of one server↔server QuorumPacket (Ack, Commit, Ping, Proposal, …) besides its data', 'zookeeper.jute QuorumPacket: type int 4 + zxid long 8 + data length 4 + authinfo vector length 4 = 20'),
  'zk.txn.header.bytes': p(40, 'bytes', 'per-transaction overhead of a proposal and of its txn-log entry', 'zookeeper.jute TxnHeader: clientId long 8 + cxid int 4 + zxid long 8 + time long 8 + type int 4 = 32, + the txn log\'s Adler32 checksum long 8 (FileTxnLog.append) = 40'),
  'zk.stat.bytes': p(68, 'bytes', 'Stat returned with each read', 'org.apache.zookeeper.data.Stat: 6 longs + 5 ints = 68 bytes (zookeeper.jute)'),
  'zkmode.controller.load.us.per.partition': p(140, 'µs/partition', 'controller event-thread cost to load one partition into the ControllerContext (parse the state znode, update caches)', 'derived from kafka-facts §1.7: Kafka 1.1 loaded 100,000 partitions in 14 s ⇒ 140 µs/partition; with 10 ZK requests in flight the ZK side costs only (2 × 120 µs one way + 20 µs read) / 10 ≈ 26 µs/partition, so the controller thread is the bottleneck at ≈ 140 µs'),
  'zkmode.controller.request.build.us.per.partition': p(15, 'µs/partition', 'controller event-thread cost per partition entry of a LeaderAndIsr (one per replica) or UpdateMetadata (one per partition) it queues: the replica/partition state-machine transition and AbstractControllerBrokerRequestBatch bookkeeping', 'calibrated: linkedin/kafka #347 measured the ZooKeeper tree walk at ≈ 70 % of controller initialization at 15k partitions (1,500 topics × 10); with the walk at zkmode.controller.load.us.per.partition the rest — replicaStateMachine/partitionStateMachine startup queuing 4 entries per partition at rf 3 — is ≈ 60 µs/partition ⇒ ≈ 15 µs per entry (test/zkmode/calibration.test.ts); a few Scala map updates, state objects and a state-change log call each'),
  'zkmode.leader.and.isr.bytes.per.partition': p(52, 'bytes/partition', 'LeaderAndIsrPartitionState in a LeaderAndIsr request', 'LeaderAndIsrRequest.json v5+: index 4 + controllerEpoch 4 + leader 4 + leaderEpoch 4 + isr 13 + partitionEpoch 4 + replicas 13 + adding/removing 2 + isNew 1 + recovery 1 + tags 1 = 51 (+ topic share)'),
  'zkmode.leader.and.isr.header.bytes': p(120, 'bytes', 'fixed part of a LeaderAndIsr request (request header, controller id/epoch, broker epoch, live leaders)', 'estimate: request header ≈ 30 + controller/broker epochs 16 + type 1 + a few LiveLeaders of ≈ 30 bytes'),
  'zkmode.update.metadata.bytes.per.partition': p(48, 'bytes/partition', 'UpdateMetadataPartitionState in an UpdateMetadata request', 'UpdateMetadataRequest.json v6+: index 4 + controllerEpoch 4 + leader 4 + leaderEpoch 4 + isr 13 + zkVersion 4 + replicas 13 + offline 1 + tags 1 = 48'),
  'zkmode.update.metadata.header.bytes': p(60, 'bytes', 'fixed part of an UpdateMetadata request (request header, controller id/epoch, broker epoch)', 'estimate: request header ≈ 30 + controllerId 4 + controllerEpoch 4 + brokerEpoch 8 + array lengths'),
  'zkmode.update.metadata.bytes.per.live.broker': p(45, 'bytes/broker', 'one UpdateMetadataBroker entry (id, one endpoint, rack)', 'UpdateMetadataRequest.json: id 4 + endpoint (port 4 + host ≈ 20 + listener ≈ 10 + protocol 2) + rack 1 + tags ≈ 45'),
  'zkmode.controller.replica.scan.us.per.partition': p(2, 'µs/partition', 'controller event-thread cost to examine one partition for replicas on a broker, per broker: ControllerContext.partitionsOnBroker (doControlledShutdown) and replicasOnBrokers (onBrokerFailure) walk every partition assignment', 'estimate: a replica-set test per partition, a map update\'s order (≈ 1–5 µs, as broker.metadata.apply.us.per.partition); KRaft keeps a per-broker index instead (BrokersToIsrs)'),
  'zkmode.broker.registration.bytes': p(200, 'bytes', 'data of /brokers/ids/<id> (the broker registration znode)', 'JSON {"features":{},"listener_security_protocol_map":{…},"endpoints":["PLAINTEXT://host:9092"],"jmx_port":-1,"port":9092,"host":"…","version":5,"timestamp":"…"} (kafka.zk.BrokerIdZNode) ≈ 200 bytes'),
  'zkmode.isr.change.notification.bytes.per.partition': p(35, 'bytes/partition', 'one partition entry of an /isr_change_notification/isr_change_<seq> znode', 'JSON {"topic":"<name ≈ 15>","partition":N}, (kafka.zk.IsrChangeNotificationSequenceZNode) ≈ 35 bytes; the {"version":1,"partitions":[…]} wrapper (29 bytes) is added in sim/zkmode/replica.ts'),
};

export const COST_PARAMS: ParamSpecs = { ...NETWORK_DISK, ...BROKER, ...KRAFT, ...ZOOKEEPER };

/**
 * Kafka broker configs both modes share. Not costs: they live here, beside the model both modes
 * import, so each has one definition; KRAFT_PARAMS and ZK_PARAMS spread them in.
 */
export const REPLICATION_PARAMS: ParamSpecs = {
  'controller.socket.timeout.ms': { default: 30_000, unit: 'ms', description: 'request timeout of the broker-controller channels: ZK mode, the controller\'s RequestSendThread waits this long for an answer before reconnecting and retrying; KRaft, the broker\'s alter-partition channel (NodeToControllerChannelManager) disconnects and sends the request again', source: 'ReplicationConfigs CONTROLLER_SOCKET_TIMEOUT_MS_DEFAULT = 30000; NodeToControllerChannelManager: min(controller.socket.timeout.ms, retryTimeoutMs)', min: 1 },
  'replica.fetch.wait.max.ms': { default: 500, unit: 'ms', description: 'an idle follower\'s fetch is long-polled this long by its leader, so it fetches at this rate', source: 'ReplicationConfigs.REPLICA_FETCH_WAIT_MAX_MS_DEFAULT = 500', min: 1 },
};

/** A shared Kafka config, falling back to its default when a scenario did not declare it. */
export function replicationParam(params: Params, key: string): number {
  if (params[key] === undefined) {
    const d = REPLICATION_PARAMS[key]?.default;
    if (typeof d !== 'number') throw new Error(`no shared parameter ${key}`);
    return d;
  }
  return num(params, key);
}

/** The cost model resolved from parameters: times in µs, sizes in bytes. */
export interface CostModel {
  readonly link: LinkProfile;
  readonly disk: DiskProfile;
  /** Kafka request/response framing (size prefix + RequestHeader / ResponseHeader). */
  readonly rpcHeaderBytes: number;
  readonly replicaFetchRequestBytes: number;
  /** Broker work both modes share. */
  readonly broker: BrokerCosts;
  readonly kraft: {
    readonly partitionRecordBytes: number;
    readonly partitionChangeRecordBytes: number;
    readonly registerBrokerRecordBytes: number;
    readonly noOpRecordBytes: number;
    readonly fenceBrokerRecordBytes: number;
    readonly batchOverheadBytes: number;
    readonly controllerUsPerRecord: number;
    readonly snapshotBytesPerPartition: number;
    readonly leaderChangeRecordBytes: number;
    /** BrokerRegistration / BrokerHeartbeat request or response, header included. */
    readonly brokerRpcBytes: number;
    readonly raftRpcHeaderBytes: number;
  };
  readonly zk: {
    readonly serverReadUs: number;
    readonly serverWriteUs: number;
    readonly txnLogFsyncUs: number;
    readonly partitionStateZnodeBytes: number;
    readonly znodePathBytes: number;
    readonly statBytes: number;
    readonly packetHeaderBytes: number;
    readonly quorumPacketHeaderBytes: number;
    readonly txnHeaderBytes: number;
  };
  readonly zkmode: {
    readonly controllerLoadUsPerPartition: number;
    readonly controllerRequestBuildUsPerPartition: number;
    readonly leaderAndIsrBytesPerPartition: number;
    readonly leaderAndIsrHeaderBytes: number;
    readonly updateMetadataBytesPerPartition: number;
    readonly updateMetadataHeaderBytes: number;
    readonly updateMetadataBytesPerLiveBroker: number;
    readonly controllerReplicaScanUsPerPartition: number;
    readonly brokerRegistrationBytes: number;
    readonly isrChangeNotificationBytesPerPartition: number;
  };
}

/** The broker work both modes share (section BROKER). */
export interface BrokerCosts {
  readonly metadataApplyUsPerPartition: number;
  readonly makeLeaderFollowerUsPerPartition: number;
  readonly partitionExamineUsPerPartition: number;
  readonly leaderEpochCheckpointBytes: number;
  readonly isrCheckUsPerPartition: number;
  readonly alterPartitionRequestBytesPerPartition: number;
  readonly alterPartitionResponseBytesPerPartition: number;
}

/** Reads a cost parameter, falling back to its default when a scenario did not declare it. */
export function cost(params: Params, key: string): number {
  if (params[key] === undefined) {
    const d = COST_PARAMS[key]?.default;
    if (typeof d !== 'number') throw new Error(`cost model: no parameter ${key}`);
    return d;
  }
  return num(params, key);
}

export function linkProfile(params: Params): LinkProfile {
  return {
    baseLatencyUs: cost(params, 'net.one.way.latency.us'),
    jitterMeanUs: cost(params, 'net.jitter.mean.us'),
    bandwidthBytesPerSec: cost(params, 'net.bandwidth.bytes.per.s'),
  };
}

export function diskProfile(params: Params): DiskProfile {
  return { writeBytesPerSec: cost(params, 'disk.write.bytes.per.s'), fsyncUs: cost(params, 'disk.fsync.us') };
}

/**
 * Puts the network and disk figures into a simulation. The runner builds the Simulation before the
 * scenario sees its parameters, so builders call this first thing in build().
 */
export function installProfiles(sim: Simulation, params: Params): void {
  sim.net.profile = linkProfile(params);
  Object.assign(sim.disk, diskProfile(params));
}

export function costModel(params: Params): CostModel {
  const rf = typeof params['replication.factor'] === 'number' ? params['replication.factor'] : 3;
  return {
    link: linkProfile(params),
    disk: diskProfile(params),
    rpcHeaderBytes: cost(params, 'net.rpc.header.bytes'),
    replicaFetchRequestBytes: cost(params, 'net.replica.fetch.request.bytes'),
    broker: {
      metadataApplyUsPerPartition: cost(params, 'broker.metadata.apply.us.per.partition'),
      makeLeaderFollowerUsPerPartition: cost(params, 'broker.make.leader.follower.us.per.partition'),
      partitionExamineUsPerPartition: cost(params, 'broker.partition.examine.us.per.partition'),
      leaderEpochCheckpointBytes: cost(params, 'broker.leader.epoch.checkpoint.bytes'),
      isrCheckUsPerPartition: cost(params, 'broker.isr.check.us.per.partition'),
      alterPartitionRequestBytesPerPartition: cost(params, 'broker.alter.partition.request.bytes.per.partition'),
      alterPartitionResponseBytesPerPartition: cost(params, 'broker.alter.partition.response.bytes.per.partition'),
    },
    kraft: {
      // Replicas and Isr are int32 arrays: 4 bytes each per replica beyond the rf-3 default.
      partitionRecordBytes: cost(params, 'kraft.record.partition.bytes') + 8 * (rf - 3),
      partitionChangeRecordBytes: cost(params, 'kraft.record.partition.change.bytes'),
      registerBrokerRecordBytes: cost(params, 'kraft.record.register.broker.bytes'),
      noOpRecordBytes: cost(params, 'kraft.record.noop.bytes'),
      fenceBrokerRecordBytes: cost(params, 'kraft.record.fence.broker.bytes'),
      batchOverheadBytes: cost(params, 'kraft.record.batch.overhead.bytes'),
      controllerUsPerRecord: cost(params, 'kraft.controller.us.per.record'),
      snapshotBytesPerPartition: cost(params, 'kraft.snapshot.bytes.per.partition'),
      leaderChangeRecordBytes: cost(params, 'kraft.record.leader.change.bytes'),
      brokerRpcBytes: cost(params, 'net.rpc.header.bytes') + cost(params, 'kraft.broker.rpc.body.bytes'),
      raftRpcHeaderBytes: cost(params, 'raft.rpc.header.bytes'),
    },
    zk: {
      serverReadUs: cost(params, 'zk.server.read.us'),
      serverWriteUs: cost(params, 'zk.server.write.us'),
      txnLogFsyncUs: cost(params, 'zk.txnlog.fsync.us'),
      partitionStateZnodeBytes: cost(params, 'zk.znode.partition.state.bytes'),
      znodePathBytes: cost(params, 'zk.znode.path.bytes'),
      statBytes: cost(params, 'zk.stat.bytes'),
      packetHeaderBytes: cost(params, 'zk.packet.header.bytes'),
      quorumPacketHeaderBytes: cost(params, 'zk.quorum.packet.header.bytes'),
      txnHeaderBytes: cost(params, 'zk.txn.header.bytes'),
    },
    zkmode: {
      controllerLoadUsPerPartition: cost(params, 'zkmode.controller.load.us.per.partition'),
      controllerRequestBuildUsPerPartition: cost(params, 'zkmode.controller.request.build.us.per.partition'),
      leaderAndIsrBytesPerPartition: cost(params, 'zkmode.leader.and.isr.bytes.per.partition'),
      leaderAndIsrHeaderBytes: cost(params, 'zkmode.leader.and.isr.header.bytes'),
      updateMetadataBytesPerPartition: cost(params, 'zkmode.update.metadata.bytes.per.partition'),
      updateMetadataHeaderBytes: cost(params, 'zkmode.update.metadata.header.bytes'),
      updateMetadataBytesPerLiveBroker: cost(params, 'zkmode.update.metadata.bytes.per.live.broker'),
      controllerReplicaScanUsPerPartition: cost(params, 'zkmode.controller.replica.scan.us.per.partition'),
      brokerRegistrationBytes: cost(params, 'zkmode.broker.registration.bytes'),
      isrChangeNotificationBytesPerPartition: cost(params, 'zkmode.isr.change.notification.bytes.per.partition'),
    },
  };
}
