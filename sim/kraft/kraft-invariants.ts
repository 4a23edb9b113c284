import { msToUs, type SimNode, type Simulation } from '../../core/index.ts';
import { initialLeaders, type ClusterLayout } from '../cluster/layout.ts';
import type { ObservationChannel, Observer } from '../cluster/observe.ts';
import type { RaftListener, RaftObserver } from '../raft/raft-listener.ts';
import type { RaftInvariants } from '../raft/raft-invariants.ts';
import type { ElectionState } from '../raft/quorum-state.ts';
import type { RecordBatch } from '../raft/types.ts';
import type { MetadataPayload } from './records.ts';

/** What the liveness property reads: the measured health (the tracker's figures). */
export interface MeasuredHealth {
  readonly activeControllers: number;
  readonly totalDivergence: number;
  readonly unavailable: number;
}

/**
 * The truth replay and the KRaft-level invariants. Truth is the metadata image at the quorum's high
 * watermark: the first time any node reports a batch committed, its records are reported on the
 * observation channel (a batch's partition states → one truth observation, fence/unfence →
 * serving). The invariants subscribe to the channel like the tracker and keep the committed
 * leaders and fenced brokers they check from it. Invariants: at most one active controller per epoch; a broker never applies an
 * uncommitted record; a fenced broker leads nothing in truth. It also forwards every Raft event to
 * the Raft invariants and turns the first quorum timeout after the main fault into the 'detect'
 * milestone.
 */
export class KraftInvariants implements RaftObserver<MetadataPayload> {
  private truthOffset: number;
  private readonly truthFenced: Uint8Array;
  /** Leader of each partition in the committed metadata (from the batches replayed here). */
  private readonly truthLeader: Int32Array;
  private readonly activeOfEpoch = new Map<number, number>();
  private broken: Record<string, string | null> = {};

  constructor(
    private readonly sim: Simulation,
    private readonly raft: RaftInvariants<MetadataPayload>,
    private readonly obs: ObservationChannel,
    private readonly measured: MeasuredHealth,
    layout: ClusterLayout,
    private readonly partsOf: readonly Int32Array[],
    warmCommittedOffset: number,
  ) {
    this.truthOffset = warmCommittedOffset;
    this.truthFenced = new Uint8Array(partsOf.length);
    this.truthLeader = initialLeaders(layout).slice();
    obs.subscribe(this.committedView);
  }

  register(livenessWithinMs: number, include: (name: string) => boolean = () => true): void {
    const flag = (k: string) => (): string | null => this.broken[k] ?? null;
    this.registerSafety(flag, include);
    this.registerLiveness(livenessWithinMs);
  }

  private registerSafety(flag: (k: string) => () => string | null, include: (name: string) => boolean): void {
    const props = this.sim.props;
    const p = { safety: (name: string, check: () => string | null, opts: { on: readonly string[] }) => { if (include(name)) props.safety(name, check, opts); } };
    p.safety('kraft.one-active-controller-per-epoch', flag('active'), { on: ['kraft.activate'] });
    p.safety('kraft.broker-applies-only-committed', flag('apply'), { on: ['kraft.broker-apply'] });
    p.safety('kraft.fenced-broker-leads-nothing', flag('fenced'), { on: ['raft.hw'] });
  }

  private registerLiveness(livenessWithinMs: number): void {
    this.sim.props.liveness('kraft.one-active-controller-and-brokers-converged', msToUs(livenessWithinMs), () => {
      const t = this.measured;
      if (t.activeControllers !== 1) return `${t.activeControllers} active controllers`;
      if (t.totalDivergence > 0) return `${t.totalDivergence} partition states differ between live brokers and truth`;
      if (t.unavailable > 0) return `${t.unavailable} partitions unavailable`;
      return null;
    });
  }

  private fail(k: string, detail: string): void {
    if ((this.broken[k] ?? null) === null) this.broken[k] = detail;
  }

  onActivate(node: SimNode, epoch: number): void {
    const prev = this.activeOfEpoch.get(epoch);
    if (prev !== undefined && prev !== node.id) this.fail('active', `two controllers active in epoch ${epoch}: ${this.sim.nodes[prev]!.name} and ${node.name}`);
    this.activeOfEpoch.set(epoch, node.id);
  }

  /** A broker applied this batch to its metadata cache. */
  onBrokerApply(node: SimNode, batch: RecordBatch<MetadataPayload>): void {
    node.note('kraft.broker-apply', batch.baseOffset);
    if (!this.raft.isCommitted(batch.baseOffset, batch.checksum)) {
      this.fail('apply', `${node.name} applied the batch at offset ${batch.baseOffset} (epoch ${batch.epoch}) before it was committed`);
    }
  }

  /** The truth replay: a committed batch's partition states as one truth observation, fence / unfence as serving. */
  private applyToTruth(batch: RecordBatch<MetadataPayload>): void {
    const r = batch.records;
    if (r === null) return;
    const pc = r.partitionChanges;
    if (pc !== null && r.brokersFirst !== true) this.obs.truth(pc);
    for (const b of r.brokers) {
      switch (b.type) {
        case 'RegisterBrokerRecord':
        case 'FenceBrokerRecord':
        case 'UnfenceBrokerRecord':
          this.obs.serving(b.brokerId, !(b.type === 'FenceBrokerRecord' || (b.type === 'RegisterBrokerRecord' && b.fenced)));
          break;
        case 'BrokerRegistrationChangeRecord':
          break;
      }
    }
    if (pc !== null && r.brokersFirst === true) this.obs.truth(pc);
  }

  /** The invariants as a subscriber: the committed leaders and fenced brokers, from the channel. */
  private readonly committedView: Observer = {
    truth: (pc) => {
      for (let i = 0; i < pc.count; i++) {
        const leader = pc.leader[i]!;
        this.truthLeader[pc.partition[i]!] = leader;
        if (leader >= 0 && this.truthFenced[leader] === 1) this.fail('fenced', `partition ${pc.partition[i]} committed with fenced broker ${leader} as leader`);
      }
    },
    serving: (b, serving) => {
      this.truthFenced[b] = serving ? 0 : 1;
      if (!serving) this.checkLeadsNothing(b);
    },
  };

  private checkLeadsNothing(b: number): void {
    const parts = this.partsOf[b]!;
    const leader = this.truthLeader;
    for (let i = 0; i < parts.length; i++) {
      if (leader[parts[i]!] === b) return this.fail('fenced', `broker ${b} is fenced but still leads partition ${parts[i]} in the committed metadata`);
    }
  }

  // ---- RaftObserver: forward, and feed truth ----

  onElectionState(node: SimNode, state: ElectionState, durable: boolean): void {
    this.raft.onElectionState(node, state, durable);
  }

  onBecomeLeader(node: SimNode, epoch: number): void {
    this.raft.onBecomeLeader(node, epoch);
  }

  onLeaderEnd(node: SimNode, epoch: number): void {
    this.raft.onLeaderEnd(node, epoch);
  }

  onMajorityContact(node: SimNode, epoch: number): void {
    this.raft.onMajorityContact(node, epoch);
  }

  onQuorumTimeout(node: SimNode, kind: 'fetch-timeout' | 'check-quorum'): void {
    this.raft.onQuorumTimeout();
    void node;
    void kind;
    this.obs.milestone('detect');
  }

  onHighWatermark(node: SimNode, epoch: number, isLeader: boolean, hw: number, batches: readonly RecordBatch<MetadataPayload>[]): void {
    this.raft.onHighWatermark(node, epoch, isLeader, hw, batches);
    for (const b of batches) {
      if (b.baseOffset < this.truthOffset) continue;
      this.applyToTruth(b);
      this.truthOffset = b.baseOffset + b.count;
    }
  }
}

/** Marker type so builders can register the same listener shape for brokers and controllers. */
export type MetadataListener = RaftListener<MetadataPayload, unknown>;
