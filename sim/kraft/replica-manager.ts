import { msToUs, type SimNode } from '../../core/index.ts';
import type { BrokerMetadataCache } from '../cluster/cache.ts';
import { PartitionStateBatch } from '../cluster/partitions.ts';
import type { AlterPartitionRequest, AlterPartitionResponse } from './messages.ts';
import { MAX_RECORDS_PER_BATCH } from './records.ts';

export interface ReplicaCosts {
  /** Leader-side work per partition examined for an ISR expansion (Partition.maybeExpandIsr). */
  readonly usPerPartition: number;
  /** AlterPartition bytes per partition (PartitionData: topic id, partition, leader epoch, new ISR, partition epoch). */
  readonly bytesPerPartition: number;
  readonly headerBytes: number;
  /** An idle follower's FetchRequest (net.replica.fetch.request.bytes). */
  readonly fetchRequestBytes: number;
  /** replica.fetch.wait.max.ms: an idle follower's fetch is long-polled this long, so it fetches at this rate. */
  readonly fetchWaitMaxMs: number;
  /**
   * controller.socket.timeout.ms: the request timeout of the broker's alter-partition channel
   * (NodeToControllerChannelManager: min(controller.socket.timeout.ms, retryTimeoutMs = ∞)).
   */
  readonly requestTimeoutMs: number;
}

/**
 * The ISR-expansion half of a KRaft broker's ReplicaManager. A follower that was out of the ISRs
 * (fenced, then back) fetches from each broker leading one of its partitions every
 * replica.fetch.wait.max.ms once it is unfenced; the data is not modelled, so one fetch means
 * caught up. The leader then proposes the follower back into each ISR it leads that lacks it
 * (Partition.maybeExpandIsr) with AlterPartition to the active controller, ≤ 10,000 partitions per
 * request, one in flight per partition version (Partition's pendingIsr); the controller writes
 * PartitionChangeRecords and the leader learns the new ISR from the metadata log like everyone
 * else. Simplification: fetching starts at unfencing, not when the broker becomes a follower
 * (Kafka's leader would get INELIGIBLE_REPLICA for a fenced follower, KIP-841).
 */
export class KraftReplicaManager {
  private fetchTimer = -1;
  /** Per partition: the partition epoch of the AlterPartition this broker (as leader) has pending, or -1. */
  private pendingEpoch: Int32Array | null = null;
  /** When the unanswered AlterPartition proposing p was sent (µs), or -1 once an answer named p. */
  private proposedUs: Float64Array | null = null;
  /** AlterPartition requests sent as leader and partitions accepted (for tests and extra()). */
  alterPartitionRequests = 0;
  partitionsExpanded = 0;

  constructor(
    private readonly node: SimNode,
    private readonly brokerId: number,
    /** The broker's own metadata cache (the one its BrokerServer publishes to). */
    private readonly cacheOf: () => BrokerMetadataCache,
    private readonly partsOf: readonly Int32Array[],
    private readonly costs: ReplicaCosts,
    private readonly nodeOfBroker: (b: number) => SimNode,
    private readonly controller: () => SimNode | null,
    private readonly brokerEpoch: () => number,
  ) {}

  // ---- follower side ----

  /** The broker is unfenced: start fetching from the leaders of partitions whose ISR lacks it. */
  onUnfenced(): void {
    if (this.fetchTimer < 0) this.fetchRound();
  }

  private fetchRound(): void {
    this.fetchTimer = -1;
    const cache = this.cacheOf();
    const parts = this.partsOf[this.brokerId]!;
    const leaders = new Set<number>();
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      const l = cache.leader[p]!;
      if (l >= 0 && l !== this.brokerId && !cache.isrHas(p, this.brokerId)) leaders.add(l);
    }
    if (leaders.size === 0) return; // back in every ISR: nothing left that the model needs to fetch for
    for (const l of leaders) this.node.send(this.nodeOfBroker(l), { type: 'ReplicaFetch', brokerId: this.brokerId }, this.costs.fetchRequestBytes);
    this.fetchTimer = this.node.setTimer('kraft.replica-fetch', msToUs(this.costs.fetchWaitMaxMs), () => this.fetchRound());
  }

  // ---- leader side ----

  /** A follower fetched: propose it back into the ISRs this broker leads that lack it. */
  handleReplicaFetch(follower: number, exec: { submit(label: string, costUs: number, fn: () => void): void }): void {
    const parts = this.partsOf[follower]!;
    const P = this.cacheOf().size;
    for (let from = 0; from < parts.length; from += MAX_RECORDS_PER_BATCH) {
      const to = Math.min(parts.length, from + MAX_RECORDS_PER_BATCH);
      exec.submit('Partition.maybeExpandIsr', (to - from) * this.costs.usPerPartition, () => {
        const cache = this.cacheOf();
        const pending = (this.pendingEpoch ??= new Int32Array(P).fill(-1));
        const sent = (this.proposedUs ??= new Float64Array(P).fill(-1));
        const now = this.node.sim.nowUs;
        const expiredBefore = now - msToUs(this.costs.requestTimeoutMs);
        const out = PartitionStateBatch.ofSize(to - from);
        for (let i = from; i < to; i++) {
          const p = parts[i]!;
          if (cache.leader[p] !== this.brokerId || cache.isrHas(p, follower)) continue;
          // pendingIsr: already proposed for this version, unless that request went unanswered for
          // the channel's request timeout (lost with its connection or its controller): Kafka's
          // NodeToControllerRequestThread then disconnects and sends it again (retryTimeoutMs = ∞).
          if (pending[p] === cache.partitionEpoch[p] && !(sent[p]! >= 0 && sent[p]! <= expiredBefore)) continue;
          const slot = cache.slotOf(p, follower);
          pending[p] = cache.partitionEpoch[p]!;
          sent[p] = now;
          out.push(p, this.brokerId, cache.leaderEpoch[p]!, cache.partitionEpoch[p]!, cache.isr[p]! | (1 << slot));
        }
        const ctl = this.controller();
        if (out.count === 0) return;
        if (ctl === null) {
          for (let i = 0; i < out.count; i++) pending[out.partition[i]!] = -1;
          return;
        }
        const req: AlterPartitionRequest = { type: 'AlterPartition', brokerId: this.brokerId, brokerEpoch: this.brokerEpoch(), states: out };
        this.alterPartitionRequests++;
        this.node.send(ctl, req, this.costs.headerBytes + out.count * this.costs.bytesPerPartition);
      });
    }
  }

  /** Accepted partitions stay pending until the metadata log brings their new version; rejected ones may be retried. */
  handleAlterPartitionResponse(r: AlterPartitionResponse): void {
    const pending = this.pendingEpoch;
    if (pending === null) return;
    const sent = this.proposedUs!;
    for (let i = 0; i < r.partitions.length; i++) {
      sent[r.partitions[i]!] = -1;
      if (r.error === 'NONE' && r.accepted[i] === 1) this.partitionsExpanded++;
      else pending[r.partitions[i]!] = -1;
    }
  }

  stop(): void {
    if (this.fetchTimer >= 0) this.node.cancelTimer(this.fetchTimer);
    this.fetchTimer = -1;
  }
}
