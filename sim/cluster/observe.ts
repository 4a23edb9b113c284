import type { PartitionStateBatch } from './partitions.ts';
import type { Milestone } from './recovery.ts';

/**
 * What the Kafka models report, as they do it. Batches are the models' own (a committed
 * ZooKeeper txn, a metadata record batch, a LeaderAndIsr / UpdateMetadata chunk, a loader chunk):
 * an observer reads a batch during the call and must not keep it (models reuse them).
 */
export interface Observer {
  /** States committed (KRaft: at/below the quorum's high watermark; ZK mode: znode write committed). */
  truth?(batch: PartitionStateBatch): void;
  /** Broker `broker`'s metadata cache now holds these states. */
  applied?(broker: number, batch: PartitionStateBatch): void;
  /** Broker `broker`'s cache was emptied (a (re)started broker, before it loads metadata). */
  cacheReset?(broker: number): void;
  /** KRaft: unfenced / fenced; ZK mode: registered (/brokers/ids/b exists) or not. */
  serving?(broker: number, serving: boolean): void;
  /**
   * The node (simulation node id) believes it is the active controller ('active'), has finished
   * loading ('ready'), or no longer believes it ('resigned').
   */
  controller?(nodeId: number, state: ControllerState): void;
  /** A recovery milestone (the first after the main fault counts). */
  milestone?(name: Milestone): void;
}

export type ControllerState = 'active' | 'ready' | 'resigned';

/** Trace record kind of every observation; labels below. */
export const OBS_KIND = 'obs';
export const OBS_LABEL = {
  header: 'obs.header',
  truth: 'obs.truth',
  applied: 'obs.applied',
  cacheReset: 'obs.cache-reset',
  serving: 'obs.serving',
  controller: { active: 'obs.controller.active', ready: 'obs.controller.ready', resigned: 'obs.controller.resigned' },
  milestone: { detect: 'obs.milestone.detect', elect: 'obs.milestone.elect', load: 'obs.milestone.load' },
} as const;

/** The `format` field of the header observation. */
export const OBS_FORMAT = 'kraftsim-observations/1';

/** What `sim report` needs to rebuild the observer: the run's identity, its parameters, its nodes. */
export interface ObservationHeader {
  readonly format: typeof OBS_FORMAT;
  readonly mode: string | null;
  readonly seed: number;
  /** Every parameter of the run (layout and tracker settings are derived from them as the run did). */
  readonly params: Readonly<Record<string, number | string | boolean>>;
  /** Node names in simulation id order. */
  readonly nodes: readonly string[];
  /** Simulation node id of broker b, for b = 0…brokers-1. */
  readonly brokerNodes: readonly number[];
}

/** What the channel needs from the simulation: the clock and the trace. */
export interface ObservationHost {
  readonly nowUs: number;
  readonly trace: {
    readonly sink: unknown;
    record(atUs: number, kind: string, node: number, peer: number, label: string, value: number, detail?: string): void;
  };
}

/**
 * A running checksum over a batch's typed arrays (count, then partition, leader, leaderEpoch,
 * partitionEpoch, ISR of each state) as a 32-bit integer: the observation's trace value, so the
 * trace hash covers the content without building a string.
 */
export function batchChecksum(b: PartitionStateBatch): number {
  let h = Math.imul(b.count ^ 0x5bd1e995, 0x9e3779b1);
  const part = b.partition;
  const leader = b.leader;
  const le = b.leaderEpoch;
  const pe = b.partitionEpoch;
  const isr = b.isr;
  for (let i = 0; i < b.count; i++) {
    h = Math.imul(h ^ part[i]!, 0x85ebca6b);
    h = Math.imul(h ^ leader[i]!, 0xc2b2ae35);
    h = Math.imul(h ^ le[i]!, 0x27d4eb2f);
    h = Math.imul(h ^ pe[i]!, 0x165667b1);
    h = Math.imul(h ^ isr[i]!, 0x9e3779b1);
    h ^= h >>> 15;
  }
  return h | 0;
}

/** A batch as the trace's detail: `p,leader,leaderEpoch,partitionEpoch,isr` per state, `;`-separated. */
export function batchDetail(b: PartitionStateBatch): string {
  const parts: string[] = new Array<string>(b.count);
  for (let i = 0; i < b.count; i++) parts[i] = `${b.partition[i]},${b.leader[i]},${b.leaderEpoch[i]},${b.partitionEpoch[i]},${b.isr[i]}`;
  return parts.join(';');
}

/**
 * The one way Kafka models report what happens to the metadata: every observation becomes a trace
 * record (kind 'obs', a label naming it) and then goes to each subscriber in subscription order.
 * Subscribers (the tracker, invariants) never hand anything back to a model.
 */
export class ObservationChannel {
  private observers: Observer[] = [];
  private brokerNodes: readonly number[] = [];

  constructor(private readonly host: ObservationHost) {}

  subscribe(o: Observer): void {
    this.observers = [...this.observers, o];
  }

  /** Simulation node ids of the brokers (the node of their observations' trace records). */
  setBrokerNodes(ids: readonly number[]): void {
    this.brokerNodes = ids;
  }

  /** The header record `sim report` starts from (once, when the cluster is built). */
  header(h: Omit<ObservationHeader, 'format'>): void {
    const full: ObservationHeader = { format: OBS_FORMAT, ...h };
    this.host.trace.record(this.host.nowUs, OBS_KIND, -1, -1, OBS_LABEL.header, 1, JSON.stringify(full));
  }

  truth(batch: PartitionStateBatch): void {
    if (batch.count === 0) return;
    const tr = this.host.trace;
    tr.record(this.host.nowUs, OBS_KIND, -1, -1, OBS_LABEL.truth, batchChecksum(batch), tr.sink !== null ? batchDetail(batch) : undefined);
    for (const o of this.observers) o.truth?.(batch);
  }

  applied(broker: number, batch: PartitionStateBatch): void {
    if (batch.count === 0) return;
    const tr = this.host.trace;
    tr.record(this.host.nowUs, OBS_KIND, this.nodeOf(broker), -1, OBS_LABEL.applied, batchChecksum(batch), tr.sink !== null ? batchDetail(batch) : undefined);
    for (const o of this.observers) o.applied?.(broker, batch);
  }

  cacheReset(broker: number): void {
    this.host.trace.record(this.host.nowUs, OBS_KIND, this.nodeOf(broker), -1, OBS_LABEL.cacheReset, 0);
    for (const o of this.observers) o.cacheReset?.(broker);
  }

  serving(broker: number, serving: boolean): void {
    this.host.trace.record(this.host.nowUs, OBS_KIND, this.nodeOf(broker), -1, OBS_LABEL.serving, serving ? 1 : 0);
    for (const o of this.observers) o.serving?.(broker, serving);
  }

  controller(nodeId: number, state: ControllerState): void {
    this.host.trace.record(this.host.nowUs, OBS_KIND, nodeId, -1, OBS_LABEL.controller[state], 0);
    for (const o of this.observers) o.controller?.(nodeId, state);
  }

  milestone(name: Milestone): void {
    this.host.trace.record(this.host.nowUs, OBS_KIND, -1, -1, OBS_LABEL.milestone[name], 0);
    for (const o of this.observers) o.milestone?.(name);
  }

  private nodeOf(broker: number): number {
    const id = this.brokerNodes[broker];
    if (id === undefined) throw new Error(`ObservationChannel: no broker ${broker} (brokers: ${this.brokerNodes.length})`);
    return id;
  }
}
