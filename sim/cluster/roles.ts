import { FaultPlanError, type SimNode, type Simulation } from '../../core/index.ts';

/** The nodes of a Kafka cluster by role, and its controlled shutdown, as a mode's builder knows them. */
export interface KafkaRoleNodes {
  readonly brokers: readonly SimNode[];
  /** Nodes that can become the active controller: KRaft, the controller quorum's voters; ZK mode, every broker. */
  readonly controllers: readonly SimNode[];
  /** The metadata quorum: ZK mode, the ZooKeeper servers; KRaft, the controller voters. */
  readonly quorum: readonly SimNode[];
  readonly zookeeper: readonly SimNode[];
  /** Starts broker b's controlled shutdown; `onDone` when it may exit (the scenario's process then exits). */
  controlledShutdown(b: number, onDone: (ms: number, clean: boolean) => void): void;
}

/**
 * The groups and operations every Kafka fault plan can name, in both modes: '@brokers',
 * '@controllers', '@quorum', '@zookeeper' (none in KRaft mode: naming it is an error of the plan),
 * and `{type: 'op', op: 'controlled-shutdown', node}` — the broker shuts down as
 * kafka-server-stop.sh makes it (SIGTERM → KafkaServer.controlledShutdown / BrokerServer's
 * BrokerLifecycleManager with WantShutDown) and its process exits once allowed. The roles a mode
 * alone defines ('@activeController', '@zkLeader', '@raftLeader', …) stay with the mode's builder.
 */
export function defineKafkaRoles(sim: Simulation, r: KafkaRoleNodes): void {
  const f = sim.faults;
  f.defineRole('brokers', () => r.brokers);
  f.defineRole('controllers', () => r.controllers);
  f.defineRole('quorum', () => r.quorum);
  f.defineRole('zookeeper', () => r.zookeeper);
  f.defineOp('controlled-shutdown', (node) => {
    const b = r.brokers.indexOf(node);
    if (b < 0) throw new FaultPlanError(`controlled-shutdown: ${node.name} is not a broker`);
    if (!node.up) throw new FaultPlanError(`controlled-shutdown: ${node.name} is not running at ${sim.nowUs / 1000} ms`);
    const incarnation = node.incarnation;
    r.controlledShutdown(b, () => {
      // The process exits (a clean exit keeps what the page cache holds), as its own event.
      sim.after(0, () => {
        if (node.up && node.incarnation === incarnation) sim.crash(node, false);
      });
    });
  });
}
