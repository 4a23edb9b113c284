import { REPLICATION_PARAMS } from '../cluster/cost.ts';
import type { ParamSpecs } from '../params.ts';

/** Historical ZK-mode bugs (design §7). */
export const ZK_BUGS: readonly string[] = [
  // Controller ZooKeeper writes not wrapped in a CheckOp on /controller_epoch's zkVersion → zk.one-controller-writes-per-epoch.
  'KAFKA-6082',
  // Brokers do not check the broker epoch of control requests → broker.no-stale-broker-epoch.
  'KAFKA-7235',
  // What-ifs, each tripping the invariant it would break or changing what it should (test/zkmode, test/zookeeper):
  // the controller syncs its ZooKeeper server before reading (changes stale reads and load time, trips nothing).
  'zk.linearizable.reads',
  // a new partition leader keeps the old leader epoch → zk.leader-epoch-monotonic.
  'zk.no-leader-epoch-bump',
  // a live replica outside the ISR may be elected (unclean, without the config) → zk.leader-in-isr.
  'zk.elect-outside-isr',
  // brokers skip the controller-epoch check on LeaderAndIsr/UpdateMetadata → broker.no-stale-controller-epoch
  // (the zombie controller's late requests).
  'zk.no-controller-epoch-check',
  // a broker elects itself with the controller epoch it last saw in requests + 1, written without the
  // zkVersion check (not read from /controller_epoch) → zk.controller-epoch-monotonic.
  'zk.controller-epoch-from-cache',
  // a ZooKeeper leader commits on its own ACK → zab.prefix-consistency.
  'zab.commit-without-quorum',
  // a newly elected ZooKeeper leader reuses the newest accepted epoch instead of one more → zab.leadership.
  'zab.no-epoch-bump',
];

const ms = (d: number, description: string, source: string, min = 0) => ({ default: d, unit: 'ms', description, source, min });

/** Kafka (ZooKeeper mode) and ZooKeeper configuration, under their own names. */
export const ZK_PARAMS: ParamSpecs = {
  'zookeeper.session.timeout.ms': ms(18000, 'ZooKeeper session timeout of every broker', 'ZkConfigs.ZK_SESSION_TIMEOUT_MS = 18000 (6000 before Kafka 2.5, KIP-537)', 1),
  'zookeeper.max.in.flight.requests': { default: 10, unit: 'count', description: 'pipelined ZooKeeper requests in flight per client', source: 'ZkConfigs l.88 (KAFKA-5642 async ZooKeeperClient)', min: 1, integer: true },
  'zk.tickTime': ms(2000, 'ZooKeeper tickTime: session expiry bucket, leader pings every tickTime/2', 'zoo_sample.cfg tickTime=2000', 1),
  'zk.initLimit': { default: 10, unit: 'ticks', description: 'ticks a follower has to connect and sync to a new leader', source: 'zoo_sample.cfg initLimit=10', min: 1, integer: true },
  'zk.syncLimit': { default: 5, unit: 'ticks', description: 'ticks without a synced quorum before a leader steps down (and a follower drops its leader)', source: 'zoo_sample.cfg syncLimit=5', min: 1, integer: true },
  'zk.servers': { default: 3, unit: 'count', description: 'ZooKeeper ensemble size (3 or 5)', source: 'common production ensemble size', min: 3, integer: true },
  'isr.change.notification.enable': { default: false, unit: '', description: 'ISR changes take the pre-2.7 path: leaders write ZK and post /isr_change_notification (instead of AlterPartition)', source: 'ZkAlterPartitionManager (IBP < 2.7), KIP-497 replaced it' },
  'isr.change.notification.linger.ms': ms(5000, 'flush ISR-change notifications after this long without a change', 'ZkAlterPartitionManager lingerMs = 5000 (KAFKA-2722)'),
  'isr.change.notification.max.delay.ms': ms(60000, 'flush ISR-change notifications at least this often', 'ZkAlterPartitionManager maxDelayMs = 60000'),
  'isr.change.notification.check.ms': ms(2500, 'how often the flush condition is checked', 'ZkAlterPartitionManager: scheduled every 2500 ms'),
  'replica.lag.time.max.ms': ms(30000, 'a follower that has not fetched (caught up) for this long is shrunk out of the ISR', 'ReplicationConfigs REPLICA_LAG_TIME_MAX_MS_DEFAULT = 30000 (10000 before 2.5, KIP-537)', 1),
  ...REPLICATION_PARAMS,
  'zkmode.alter.partition.retry.ms': ms(50, 'a leader re-sends an AlterPartition this long after a top-level error or a lost request', 'DefaultAlterPartitionManager: scheduleOnce("send-alter-partition", …, 50) after a top-level error — a code constant, not a config (was 100 ms here)', 1),
  'zk.broker.registration.retry.ms': ms(1000, 'a broker whose /brokers/ids/<id> create finds another session\'s node (or its session expired) tries again after this long', 'simulator choice: Kafka exits on a conflicting registration (KafkaZkClient.registerBroker → NodeExistsException); the model retries so a restarted broker rejoins once the old session\'s ephemeral node expires', 1),
  'controlled.shutdown.max.retries': { default: 3, unit: 'count', description: 'ControlledShutdown attempts before an unclean shutdown', source: 'ServerConfigs l.101-110', min: 0, integer: true },
  'controlled.shutdown.retry.backoff.ms': ms(5000, 'wait between ControlledShutdown attempts', 'ServerConfigs l.101-110'),
  'zk.linearizable.reads': { default: false, unit: '', description: 'what-if: the controller syncs its ZooKeeper server with the leader before its reads (sync + read)', source: 'ZooKeeper programmer guide: sync() before read for linearizable reads; Kafka does not do it' },
  'zk.cold.start': { default: false, unit: '', description: 'start from scratch: ZooKeeper elects a leader, brokers open sessions, register and elect a controller', source: 'simulator control' },
  'zk.liveness.ms': {
    default: 1_200_000,
    unit: 'ms',
    description: 'bound after the last fault for one active controller, every partition available and every live broker converged',
    source: 'simulator control: session expiry (18 s) + the full reload and re-send, measured ≈ 8.5 min at 2M partitions, with margin',
    min: 1,
  },
};
